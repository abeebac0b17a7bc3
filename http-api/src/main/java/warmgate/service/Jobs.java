package warmgate.service;

import java.util.Optional;
import java.util.concurrent.CompletionStage;
import warmgate.job.JobSpec;
import warmgate.request.Request;

/** Submitting, looking up and cancelling jobs; what the HTTP routes and the ingestion paths need of the Request entities. */
public interface Jobs {

  /** Completes once the job is persisted (or found to exist already). */
  CompletionStage<Request.Submitted> submit(String jobId, JobSpec spec);

  CompletionStage<Optional<Request.JobView>> find(String jobId);

  /**
   * Cancels a waiting, queued, retrying or running job; empty when no job has this id. Fails with
   * {@link Refused} when the job has finished.
   */
  CompletionStage<Optional<Request.JobView>> cancel(String jobId, String reason);
}
