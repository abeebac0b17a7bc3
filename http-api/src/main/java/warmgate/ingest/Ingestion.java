package warmgate.ingest;

import java.util.List;
import java.util.concurrent.CompletionStage;

/** Turns uploads, however they were reported, into jobs. */
public interface Ingestion {

  /**
   * Routes every upload and submits the jobs; completes once all of them are persisted, fails if any could
   * not be, so the sender delivers again (the ones that made it then come back as duplicates).
   */
  CompletionStage<Report> ingest(List<ObjectCreated> uploads);

  /** The answer to a notification (docs/api.md, `POST /v1/notifications/s3`). */
  record Report(List<Accepted> accepted, List<Skip> skipped) {}

  record Accepted(String jobId, String bucket, String key, boolean duplicate) {}
}
