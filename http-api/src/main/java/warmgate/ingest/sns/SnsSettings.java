package warmgate.ingest.sns;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code warmgate.sns}: which topics are accepted and how their messages are checked (docs/configuration.md).
 *
 * @param intermediateCertificates a PEM bundle of CA certificates that may complete a signing certificate's
 *     chain; empty path: none
 */
public record SnsSettings(
    Set<String> topicArns,
    Duration maxMessageAge,
    Duration maxClockSkew,
    Set<String> certificateNames,
    String intermediateCertificates,
    int certificateCacheSize,
    Duration connectTimeout,
    Duration requestTimeout,
    int maxResponseBytes) {

  public static SnsSettings fromConfig(Config warmgate) {
    Config sns = warmgate.getConfig("sns");
    Set<String> topics = new LinkedHashSet<>();
    for (String arn : sns.getValue("topic-arns").valueType() == ConfigValueType.STRING
        ? List.of(sns.getString("topic-arns").split(","))
        : sns.getStringList("topic-arns")) {
      if (!arn.isBlank()) {
        topics.add(TopicArn.parse(arn.strip()).arn());
      }
    }
    return new SnsSettings(
        topics,
        sns.getDuration("max-message-age"),
        sns.getDuration("max-clock-skew"),
        new LinkedHashSet<>(sns.getStringList("certificate-names")),
        sns.getString("intermediate-certificates"),
        sns.getInt("certificate-cache-size"),
        sns.getDuration("connect-timeout"),
        sns.getDuration("request-timeout"),
        Math.toIntExact(sns.getBytes("max-response-bytes")));
  }

  public SnsVerifier.Settings verifier() {
    return new SnsVerifier.Settings(topicArns, maxMessageAge, maxClockSkew);
  }

  /** The configured intermediate CA certificates; fails at start when the file cannot be read. */
  public List<X509Certificate> intermediates() {
    if (intermediateCertificates.isBlank()) {
      return List.of();
    }
    try {
      return new ArrayList<>(SigningCertificates.read(Files.readAllBytes(Path.of(intermediateCertificates))));
    } catch (java.io.IOException | CertificateException e) {
      throw new IllegalStateException("warmgate.sns.intermediate-certificates: " + intermediateCertificates
          + " could not be read as PEM certificates: " + e.getMessage(), e);
    }
  }
}
