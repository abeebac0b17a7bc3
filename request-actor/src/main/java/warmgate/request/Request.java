package warmgate.request;

import java.time.Instant;
import java.util.List;
import warmgate.CborSerializable;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.job.ObjectRef;

/**
 * The journal's contract for a job: every event {@link RequestEntity} persists. The journal stores each event under
 * its class name ({@code warmgate.request.Request$JobSubmitted}), so these records stay nested in a class named
 * {@code Request}; the golden files beside RequestSerializationTest hold the bytes earlier builds wrote, and must
 * keep reading back. Add fields only as Jackson can read old bytes without them, and never rename or move one.
 */
public final class Request {
  private Request() {}

  public sealed interface Event extends CborSerializable {
    Instant at();
  }

  public record JobSubmitted(String jobId, JobSpec spec, Instant inputsDeadline, Instant at) implements Event {}

  public record InputsMissing(List<String> missing, Instant at) implements Event {}

  public record JobQueued(Instant at) implements Event {}

  public record AttemptStarted(int attempt, String leaseId, Instant at) implements Event {}

  /**
   * The endpoint queued the attempt's request, staged at {@code staged} (an asynchronous endpoint): its answer will
   * be written to {@code output}, or its failure to {@code failure} (null when the platform does not say). Persisted
   * before anything else happens to the invocation, so a recovering job knows it invoked and where to look.
   *
   * @param resultBy when the platform gives up on the request; the job stops looking then
   */
  public record AsyncInvoked(int attempt, String inferenceId, ObjectRef staged, ObjectRef output, ObjectRef failure,
      Instant resultBy, Instant at) implements Event {}

  /**
   * The endpoint could not take the attempt yet (no capacity, e.g. an inference component scaling up from zero):
   * nothing ran, the attempt does not count, and the job is queued again.
   */
  public record AttemptNotRun(int attempt, String reason, Instant at) implements Event {}

  /** A transient failure; the job tries again at {@code retryAt}. */
  public record AttemptFailed(int attempt, String error, Instant retryAt, Instant at) implements Event {}

  public record JobSucceeded(int attempt, String outputETag, Instant at) implements Event {}

  public record JobFailed(String error, Instant at) implements Event {}

  public record JobCancelled(String reason, Instant at) implements Event {}

  /** The endpoint refused the job for now (it is FAILED); no attempt was used. */
  public record EndpointUnavailable(String reason, Instant retryAt, Instant at) implements Event {}

  /** The result of {@code attempt} was written aside and waits for a reviewer. */
  public record ResultHeld(int attempt, String heldETag, Instant at) implements Event {}

  public record ResultApproved(String reviewer, String outputETag, Instant at) implements Event {}

  public record ResultRejected(String reviewer, String reason, Instant at) implements Event {}

  /** {@code {base}_error.json} was written for the failure. */
  public record ErrorReported(String eTag, Instant at) implements Event {}

  /**
   * {@code {base}_error.json} can never be written (its reference breaks the key rules, or the store refuses it
   * for good): the job no longer owes it.
   */
  public record ErrorReportAbandoned(String reason, Instant at) implements Event {}

  /** A failed job was sent round again; {@code inputsDeadline} bounds its new wait for inputs. */
  public record JobRetried(String reason, Instant inputsDeadline, Instant at) implements Event {}

  public record CallbackDelivered(JobStatus status, int attempt, int httpStatus, Instant at) implements Event {}

  /** A delivery failed; tried again at {@code retryAt}, or given up when it is null. */
  public record CallbackFailed(JobStatus status, int attempt, String error, Instant retryAt,
      Instant at) implements Event {}
}
