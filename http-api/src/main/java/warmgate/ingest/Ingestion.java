package warmgate.ingest;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import warmgate.provider.AsyncResult;

/**
 * Turns uploads, however they were reported, into jobs; and hands what the sources bring about asynchronous
 * invocations (a platform's notification, an upload under an endpoint's result path) to the jobs waiting for them.
 */
public interface Ingestion {

  /**
   * Routes every upload and submits the jobs; completes once all of them are persisted, fails if any could
   * not be, so the sender delivers again (the ones that made it then come back as duplicates).
   */
  CompletionStage<Report> ingest(List<ObjectCreated> uploads);

  /**
   * Hands a platform's notification that an asynchronous invocation ended (the text a source received: an SNS
   * notification's {@code Message}) to the job it names, which looks for its answer at once.
   *
   * @return the result, or empty when {@code message} is no platform's result (then it is read as an upload event)
   * @throws warmgate.InvalidInput when it is a platform's result that cannot be used
   */
  Optional<AsyncResult> noticeResult(String message);

  /** The answer to a notification (docs/api.md, `POST /v1/notifications/s3`). */
  record Report(List<Accepted> accepted, List<Skip> skipped) {}

  record Accepted(String jobId, String bucket, String key, boolean duplicate) {}
}
