package warmgate.ingest;

import java.time.Instant;
import java.util.Objects;

/**
 * An upload as every ingestion path reports it (S3 event, SNS envelope, EventBridge, the local bucket
 * watcher). {@code key} is already decoded.
 *
 * @param versionId null when the bucket is not versioned
 * @param eTag without quotes; null only where the source does not carry one
 * @param sequencer S3's per-key ordering token, or null
 */
public record ObjectCreated(
    String bucket, String key, String versionId, String eTag, long size, String sequencer, Instant eventTime) {

  public ObjectCreated {
    Objects.requireNonNull(bucket, "bucket");
    Objects.requireNonNull(key, "key");
    eTag = eTag == null ? null : eTag.replace("\"", "");
  }
}
