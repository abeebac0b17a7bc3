package warmgate.route;

import java.util.Objects;
import warmgate.notification.ObjectCreated;

/**
 * Maps uploads to work: an upload to {@code bucket} whose key starts with {@code prefix} and ends with
 * {@code suffix} goes to {@code endpoint} through {@code pipeline}. A bucket of {@code *} matches any.
 */
public record Route(String name, String bucket, String prefix, String suffix, String endpoint, Pipeline pipeline) {

  public Route {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(bucket, "bucket");
    prefix = prefix == null ? "" : prefix;
    suffix = suffix == null ? "" : suffix;
    Objects.requireNonNull(endpoint, "endpoint");
    Objects.requireNonNull(pipeline, "pipeline");
  }

  public boolean matches(ObjectCreated upload) {
    return (bucket.equals("*") || bucket.equals(upload.bucket()))
        && upload.key().startsWith(prefix)
        && upload.key().endsWith(suffix);
  }
}
