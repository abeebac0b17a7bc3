package warmgate.ingest;

import java.util.Objects;
import warmgate.job.Priority;

/**
 * Maps uploads to work: an upload to {@code bucket} whose key starts with {@code prefix} and ends with
 * {@code suffix} goes to {@code endpoint} through {@code pipeline}. A bucket of {@code *} matches any.
 *
 * @param requireReview the route's jobs wait for approval before their result is published
 * @param callbackUrl where the route's jobs report their end, or null
 * @param priority the route's jobs' turn within their owner's share of the endpoint
 * @param warmOnFirstInput a job of the route still waiting for an input (the image's mask) asks its endpoint to start
 */
public record Route(
    String name, String bucket, String prefix, String suffix, String endpoint, Pipeline pipeline, boolean requireReview,
    String callbackUrl, Priority priority, boolean warmOnFirstInput) {

  public Route {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(bucket, "bucket");
    prefix = prefix == null ? "" : prefix;
    suffix = suffix == null ? "" : suffix;
    Objects.requireNonNull(endpoint, "endpoint");
    Objects.requireNonNull(pipeline, "pipeline");
    priority = priority == null ? Priority.INTERACTIVE : priority;
  }

  public boolean matches(ObjectCreated upload) {
    return (bucket.equals("*") || bucket.equals(upload.bucket()))
        && upload.key().startsWith(prefix)
        && upload.key().endsWith(suffix);
  }
}
