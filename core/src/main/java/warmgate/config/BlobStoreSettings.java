package warmgate.config;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Where objects live, read from {@code warmgate.blob-store}.
 *
 * @param kind {@code local} (a folder per bucket under {@code localRoot}) or {@code s3}
 * @param watchInterval how often the local folder is scanned for new files; zero turns the watcher off
 * @param s3EndpointOverride an S3-compatible server's URL (MinIO, S3Proxy), or empty for AWS
 */
public record BlobStoreSettings(
    String kind,
    Path localRoot,
    Duration watchInterval,
    String s3Region,
    Optional<String> s3EndpointOverride,
    boolean s3PathStyle,
    Optional<String> s3AccessKeyId,
    Optional<String> s3SecretAccessKey) {

  public BlobStoreSettings {
    if (!kind.equals("local") && !kind.equals("s3")) {
      throw new IllegalArgumentException("warmgate.blob-store.kind must be local or s3, not '" + kind + "'");
    }
  }

  /** Never prints the secret key, so the settings can be logged. */
  @Override
  public String toString() {
    return "BlobStoreSettings[kind=" + kind + ", localRoot=" + localRoot + ", watchInterval=" + watchInterval
        + ", s3Region=" + s3Region + ", s3EndpointOverride=" + s3EndpointOverride.orElse("") + ", s3PathStyle="
        + s3PathStyle + ", s3AccessKeyId=" + s3AccessKeyId.orElse("") + ", s3SecretAccessKey="
        + (s3SecretAccessKey.isPresent() ? "***" : "") + "]";
  }

  public static BlobStoreSettings fromConfig(Config warmgate) {
    Config c = warmgate.getConfig("blob-store");
    return new BlobStoreSettings(
        c.getString("kind"),
        Path.of(c.getString("local.root")),
        c.getDuration("local.watch-interval"),
        c.getString("s3.region"),
        nonEmpty(c.getString("s3.endpoint-override")),
        c.getBoolean("s3.path-style"),
        nonEmpty(c.getString("s3.access-key-id")),
        nonEmpty(c.getString("s3.secret-access-key")));
  }

  private static Optional<String> nonEmpty(String s) {
    return s.isBlank() ? Optional.empty() : Optional.of(s);
  }
}
