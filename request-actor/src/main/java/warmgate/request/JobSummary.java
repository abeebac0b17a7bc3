package warmgate.request;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import warmgate.job.JobStatus;
import warmgate.job.Priority;
import warmgate.request.Request.AsyncInvoked;
import warmgate.request.Request.AttemptFailed;
import warmgate.request.Request.AttemptNotRun;
import warmgate.request.Request.AttemptStarted;
import warmgate.request.Request.CallbackDelivered;
import warmgate.request.Request.CallbackFailed;
import warmgate.request.Request.EndpointUnavailable;
import warmgate.request.Request.ErrorReportAbandoned;
import warmgate.request.Request.ErrorReported;
import warmgate.request.Request.Event;
import warmgate.request.Request.InputsMissing;
import warmgate.request.Request.JobCancelled;
import warmgate.request.Request.JobFailed;
import warmgate.request.Request.JobQueued;
import warmgate.request.Request.JobRetried;
import warmgate.request.Request.JobSubmitted;
import warmgate.request.Request.JobSucceeded;
import warmgate.request.Request.ResultApproved;
import warmgate.request.Request.ResultHeld;
import warmgate.request.Request.ResultRejected;

/**
 * What the read side keeps of a job: the fields a job list shows, and whether the job still has work of its
 * own ({@link #hasWork}, the waker's question). A pure fold of the job's events that says, event by event,
 * what {@link RequestState}'s event handler says; RequestTest folds the events of every scenario it runs through
 * both and fails on the first difference, so the two cannot drift apart unnoticed.
 *
 * @param output where the result goes (the job view's {@code output})
 * @param error the job view's {@code error}: set in RETRY_WAIT and FAILED
 * @param callbacks the job has a callback URL, so reaching an end owes a notice
 * @param reportOwed failed, and {@code {base}_error.json} neither written nor given up as unwritable
 * @param callbackOwed a callback notice is still to be delivered
 * @param priority the job's turn in its owner's share, for enlisting it again after its endpoint restarted
 */
public record JobSummary(
    String jobId,
    JobStatus status,
    String endpoint,
    String owner,
    int attempts,
    Instant createdAt,
    Instant updatedAt,
    String output,
    String error,
    boolean callbacks,
    boolean reportOwed,
    boolean callbackOwed,
    Priority priority) {

  /** A job's first event. */
  public static JobSummary submitted(JobSubmitted e) {
    var spec = e.spec();
    return new JobSummary(e.jobId(), JobStatus.WAITING_FOR_INPUTS, spec.endpoint(), spec.owner(), 0, e.at(), e.at(),
        spec.output().toString(), null, spec.callbackUrl() != null, false, false, spec.priority());
  }

  /**
   * The summary after {@code event}, or empty for an event this fold does not know (an event type newer than
   * this code, or {@link JobSubmitted} again): the caller decides what to do with it, the fold never guesses.
   */
  public Optional<JobSummary> after(Event event) {
    Instant at = event.at();
    if (event instanceof InputsMissing) {
      return Optional.of(touched(at));
    } else if (event instanceof JobQueued) {
      return Optional.of(moved(JobStatus.QUEUED, null, at));
    } else if (event instanceof AttemptStarted e) {
      return Optional.of(new JobSummary(jobId, JobStatus.RUNNING, endpoint, owner, e.attempt(), createdAt, at, output,
          null,
          callbacks, reportOwed, callbackOwed, priority));
    } else if (event instanceof AsyncInvoked) {
      return Optional.of(touched(at));
    } else if (event instanceof AttemptNotRun e) {
      return Optional.of(new JobSummary(jobId, JobStatus.QUEUED, endpoint, owner, e.attempt() - 1, createdAt, at,
          output, null, callbacks, reportOwed, callbackOwed, priority));
    } else if (event instanceof AttemptFailed e) {
      return Optional.of(moved(JobStatus.RETRY_WAIT, e.error(), at));
    } else if (event instanceof EndpointUnavailable e) {
      return Optional.of(moved(JobStatus.RETRY_WAIT, e.reason(), at));
    } else if (event instanceof JobSucceeded || event instanceof ResultApproved) {
      return Optional.of(reaching(JobStatus.SUCCEEDED, null, false, at));
    } else if (event instanceof ResultHeld) {
      return Optional.of(reaching(JobStatus.AWAITING_REVIEW, null, false, at));
    } else if (event instanceof ResultRejected e) {
      return Optional.of(reaching(JobStatus.FAILED, RequestState.rejectionError(e), true, at));
    } else if (event instanceof JobFailed e) {
      return Optional.of(reaching(JobStatus.FAILED, e.error(), true, at));
    } else if (event instanceof JobCancelled) {
      return Optional.of(reaching(JobStatus.CANCELLED, null, false, at));
    } else if (event instanceof ErrorReported || event instanceof ErrorReportAbandoned) {
      // Writing the report, or giving it up for good, ends a duty; the job's view does not change: updatedAt stays.
      return Optional.of(new JobSummary(jobId, status, endpoint, owner, attempts, createdAt, updatedAt, output, error,
          callbacks, false, callbackOwed, priority));
    } else if (event instanceof JobRetried) {
      return Optional.of(new JobSummary(jobId, JobStatus.WAITING_FOR_INPUTS, endpoint, owner, attempts, createdAt, at,
          output, null,
          callbacks, false, false, priority));
    } else if (event instanceof CallbackDelivered) {
      return Optional.of(withCallbackOwed(false));
    } else if (event instanceof CallbackFailed e) {
      return Optional.of(withCallbackOwed(e.retryAt() != null));
    }
    return Optional.empty();
  }

  /** The same question {@link RequestState.Job#hasWork} answers for the entity's state. */
  public boolean hasWork() {
    return status.isUnfinished() || reportOwed || callbackOwed;
  }

  /** The summary of a whole history, first event first; empty when any event does not fold. */
  public static Optional<JobSummary> fold(List<? extends Event> events) {
    if (events.isEmpty() || !(events.get(0) instanceof JobSubmitted first)) {
      return Optional.empty();
    }
    Optional<JobSummary> summary = Optional.of(submitted(first));
    for (Event event : events.subList(1, events.size())) {
      summary = summary.flatMap(s -> s.after(event));
    }
    return summary;
  }

  private JobSummary touched(Instant at) {
    return new JobSummary(jobId, status, endpoint, owner, attempts, createdAt, at, output, error, callbacks,
        reportOwed, callbackOwed, priority);
  }

  private JobSummary moved(JobStatus next, String nextError, Instant at) {
    return new JobSummary(jobId, next, endpoint, owner, attempts, createdAt, at, output, nextError, callbacks,
        reportOwed, callbackOwed, priority);
  }

  /** A status the callback reports: a notice not yet delivered is replaced by this one (JobCore.reaching). */
  private JobSummary reaching(JobStatus next, String nextError, boolean failed, Instant at) {
    return new JobSummary(jobId, next, endpoint, owner, attempts, createdAt, at, output, nextError, callbacks, failed,
        callbacks, priority);
  }

  private JobSummary withCallbackOwed(boolean owed) {
    return new JobSummary(jobId, status, endpoint, owner, attempts, createdAt, updatedAt, output, error, callbacks,
        reportOwed, owed, priority);
  }
}
