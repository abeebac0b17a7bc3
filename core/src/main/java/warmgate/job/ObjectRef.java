package warmgate.job;

import java.util.Objects;
import warmgate.InvalidInput;

/** An object in a bucket, written {@code s3://bucket/key} wherever a user sees it. */
public record ObjectRef(String bucket, String key) {
  private static final String SCHEME = "s3://";

  public ObjectRef {
    Objects.requireNonNull(bucket, "bucket");
    Objects.requireNonNull(key, "key");
  }

  /** Parses {@code s3://bucket/key}; the key is taken literally (no URL decoding). */
  public static ObjectRef parse(String uri) {
    if (uri == null || !uri.startsWith(SCHEME)) {
      throw new InvalidInput("invalid_object_uri", "expected s3://bucket/key but got " + quote(uri));
    }
    String rest = uri.substring(SCHEME.length());
    int slash = rest.indexOf('/');
    if (slash <= 0 || slash == rest.length() - 1) {
      throw new InvalidInput("invalid_object_uri", "expected s3://bucket/key but got " + quote(uri));
    }
    String bucket = rest.substring(0, slash);
    String key = rest.substring(slash + 1);
    if (!BucketNames.isValid(bucket)) {
      throw new InvalidInput("invalid_object_uri", "bucket name " + quote(bucket) + " is not a valid S3 bucket name");
    }
    if (!Keys.isValid(key)) {
      throw new InvalidInput("invalid_object_uri", "object key " + quote(key) + " is empty, too long or contains control characters");
    }
    return new ObjectRef(bucket, key);
  }

  /** The key's last path segment without its extension: {@code a/b/cat.ply} gives {@code cat}. */
  public String baseName() {
    String name = key.substring(key.lastIndexOf('/') + 1);
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }

  /** A sibling object in the same folder. */
  public ObjectRef sibling(String name) {
    return new ObjectRef(bucket, key.substring(0, key.lastIndexOf('/') + 1) + name);
  }

  @Override
  public String toString() {
    return SCHEME + bucket + "/" + key;
  }

  private static String quote(String s) {
    return s == null ? "nothing" : "'" + s + "'";
  }

  /** Bucket naming rules as S3 documents them for new buckets (3-63 chars, lowercase, digits, dots, hyphens). */
  static final class BucketNames {
    private BucketNames() {}

    static boolean isValid(String name) {
      return name.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]") && !name.contains("..");
    }
  }

  /** S3 keys are up to 1024 bytes of UTF-8; we also refuse control characters, which no route can mean. */
  static final class Keys {
    private Keys() {}

    static boolean isValid(String key) {
      if (key.isEmpty() || key.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 1024) {
        return false;
      }
      return key.chars().noneMatch(Character::isISOControl);
    }
  }
}
