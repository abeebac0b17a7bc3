package warmgate.gateway;

import java.util.Optional;
import java.util.concurrent.CompletionStage;
import warmgate.job.JobSpec;
import warmgate.request.RequestCommand;

/** Submitting, looking up, cancelling, redriving and reviewing jobs; what the HTTP routes and the ingestion paths need
 * of the Request entities. */
public interface Jobs {

  /** Completes once the job is persisted (or found to exist already). */
  CompletionStage<RequestCommand.Submitted> submit(String jobId, JobSpec spec);

  CompletionStage<Optional<RequestCommand.JobView>> find(String jobId);

  /**
   * Cancels a waiting, queued, retrying or running job; empty when no job has this id. Fails with
   * {@link Refused} when the job has finished.
   */
  CompletionStage<Optional<RequestCommand.JobView>> cancel(String jobId, String reason);

  /** Redrives a failed job; empty when no job has this id; {@link Refused} when it has not failed. */
  CompletionStage<Optional<RequestCommand.JobView>> retry(String jobId, String reason);

  /**
   * Publishes the held result of a job awaiting review; {@link Refused} when it is not awaiting review,
   * {@link TryLater} when the result could not be copied.
   */
  CompletionStage<Optional<RequestCommand.JobView>> approve(String jobId, String reviewer);

  /** Discards the held result of a job awaiting review and fails it; {@link Refused} when it is not awaiting review. */
  CompletionStage<Optional<RequestCommand.JobView>> reject(String jobId, String reviewer, String reason);
}
