package warmgate.ingest;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * A record that was read but starts no job, with the reason a user can act on.
 *
 * @param unroutable no route takes it, or it can never be a job's object: a sign that a route or the sender is
 *     misconfigured, not an upload that needs nothing (a mask, a superseded upload). Not part of the answer's JSON; a
 *     queue consumer leaves such a message to the queue's redrive policy instead of deleting it.
 */
public record Skip(String bucket, String key, String reason, @JsonIgnore boolean unroutable) {

  public Skip(String bucket, String key, String reason) {
    this(bucket, key, reason, false);
  }

  /** An upload nothing here can take: no route matches it, or its reference is refused. */
  public static Skip unroutable(String bucket, String key, String reason) {
    return new Skip(bucket, key, reason, true);
  }
}
