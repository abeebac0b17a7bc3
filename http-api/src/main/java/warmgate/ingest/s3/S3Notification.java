package warmgate.ingest.s3;

import java.util.List;
import warmgate.ingest.ObjectCreated;
import warmgate.ingest.Skip;

/** What an S3 event notification body says, once parsed. */
public sealed interface S3Notification {

  /** The {@code s3:TestEvent} S3 sends when a notification configuration is saved; starts nothing. */
  record TestEvent(String bucket) implements S3Notification {}

  /** The uploads in a {@code Records} array, and the records that are not uploads. */
  record Batch(List<ObjectCreated> uploads, List<Skip> skipped) implements S3Notification {
    public Batch {
      uploads = List.copyOf(uploads);
      skipped = List.copyOf(skipped);
    }
  }
}
