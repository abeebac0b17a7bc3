package warmgate.request;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandlerBuilder;
import warmgate.CborSerializable;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.job.ObjectRef;
import warmgate.request.Request.AsyncInvoked;
import warmgate.request.Request.AttemptFailed;
import warmgate.request.Request.AttemptNotRun;
import warmgate.request.Request.AttemptStarted;
import warmgate.request.Request.CallbackDelivered;
import warmgate.request.Request.CallbackFailed;
import warmgate.request.Request.EndpointUnavailable;
import warmgate.request.Request.ErrorReportAbandoned;
import warmgate.request.Request.ErrorReported;
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
 * Where a job is: one state type per stage, each an immutable record, and the fold of the journal's events
 * ({@link Request}) into them. The entity recovers with this fold and audits rebuild jobs with it
 * ({@link #replay}), so the two cannot disagree.
 */
public sealed interface RequestState extends CborSerializable {

  /** No job has this id (yet). */
  record Blank() implements RequestState {}

  /**
   * What every stage of a job knows.
   *
   * @param attempts attempts made in all runs
   * @param runStart attempts made before the current run (a redrive starts a new run with a fresh budget)
   * @param redrives how often the job was redriven
   * @param callback the notice the callback still has to deliver, or null
   */
  record JobCore(
      String jobId, JobSpec spec, int attempts, int runStart, int redrives, Instant createdAt, Instant updatedAt,
      Callback callback) implements CborSerializable {

    JobCore touched(Instant at) {
      return new JobCore(jobId, spec, attempts, runStart, redrives, createdAt, at, callback);
    }

    JobCore attempted(int attempt, Instant at) {
      return new JobCore(jobId, spec, attempt, runStart, redrives, createdAt, at, callback);
    }

    /** Entering a status the callback reports; a notice not yet delivered is replaced by the newer one. */
    JobCore reaching(JobStatus status, Instant at) {
      Callback next = spec.callbackUrl() == null ? null : new Callback(status, 0, null);
      return new JobCore(jobId, spec, attempts, runStart, redrives, createdAt, at, next);
    }

    JobCore redriven(Instant at) {
      return new JobCore(jobId, spec, attempts, attempts, redrives + 1, createdAt, at, null);
    }

    JobCore withCallback(Callback next) {
      return new JobCore(jobId, spec, attempts, runStart, redrives, createdAt, updatedAt, next);
    }
  }

  /**
   * A notice the callback still owes.
   *
   * @param failures deliveries that failed so far
   * @param retryAt when to deliver next; null: now
   */
  record Callback(JobStatus status, int failures, Instant retryAt) implements CborSerializable {}

  sealed interface Job extends RequestState {
    JobCore core();

    JobStatus status();

    /** The same stage with {@code core} in place of its own. */
    Job with(JobCore core);

    default String error() {
      return null;
    }

    /**
     * Whether the job still acts on its own: an unfinished stage, or a duty owed (its error report, a callback).
     * Such a job stays in memory, and must be woken after its node is gone; the read side's {@link JobSummary}
     * answers the same question from the events alone.
     */
    default boolean hasWork() {
      boolean owesReport = this instanceof Failed failed && failed.owesReport();
      return status().isUnfinished() || owesReport || core().callback() != null;
    }

    /** The job as users see it. */
    default RequestCommand.JobView view() {
      JobCore core = core();
      Map<String, String> inputs = new LinkedHashMap<>();
      core.spec().inputs().forEach((name, ref) -> inputs.put(name, ref.toString()));
      return new RequestCommand.JobView(core.jobId(), status(), core.spec().endpoint(), core.spec().owner(),
          core.attempts(),
          core.createdAt(), core.updatedAt(), inputs, core.spec().output().toString(), error(),
          this instanceof AwaitingReview ? heldOutput(core.jobId(), core.spec()).toString() : null,
          core.spec().priority());
    }
  }

  /** @param missing input names not found at the last look; all of them before the first */
  record WaitingForInputs(JobCore core, List<String> missing, Instant deadline) implements Job {
    public JobStatus status() {
      return JobStatus.WAITING_FOR_INPUTS;
    }

    public Job with(JobCore core) {
      return new WaitingForInputs(core, missing, deadline);
    }
  }

  record Queued(JobCore core) implements Job {
    public JobStatus status() {
      return JobStatus.QUEUED;
    }

    public Job with(JobCore core) {
      return new Queued(core);
    }
  }

  /** @param call the attempt's asynchronous invocation once the endpoint queued it; null for a direct call */
  record Running(JobCore core, int attempt, String leaseId, AsyncCall call) implements Job {
    Running(JobCore core, int attempt, String leaseId) {
      this(core, attempt, leaseId, null);
    }

    public JobStatus status() {
      return JobStatus.RUNNING;
    }

    public Job with(JobCore core) {
      return new Running(core, attempt, leaseId, call);
    }
  }

  /**
   * An asynchronous invocation the endpoint queued ({@link Request.AsyncInvoked}).
   *
   * @param failure where the platform writes a failure; null when it does not say
   * @param resultBy when the platform gives up on the request
   */
  record AsyncCall(String inferenceId, ObjectRef staged, ObjectRef output, ObjectRef failure, Instant resultBy)
      implements CborSerializable {

    /** Whether {@code location} is where this call's answer or failure goes; an unknown location (null) may be. */
    boolean mayEndAt(ObjectRef location) {
      return location == null || location.equals(output) || location.equals(failure);
    }
  }

  record RetryWait(JobCore core, Instant retryAt, String error) implements Job {
    public JobStatus status() {
      return JobStatus.RETRY_WAIT;
    }

    public Job with(JobCore core) {
      return new RetryWait(core, retryAt, error);
    }
  }

  /** The result of {@code attempt} is held aside until a reviewer approves or rejects it. */
  record AwaitingReview(JobCore core, int attempt, String heldETag) implements Job {
    public JobStatus status() {
      return JobStatus.AWAITING_REVIEW;
    }

    public Job with(JobCore core) {
      return new AwaitingReview(core, attempt, heldETag);
    }
  }

  record Succeeded(JobCore core, String outputETag) implements Job {
    public JobStatus status() {
      return JobStatus.SUCCEEDED;
    }

    public Job with(JobCore core) {
      return new Succeeded(core, outputETag);
    }
  }

  /**
   * @param reported whether {@code {base}_error.json} has been written
   * @param reportAbandoned why it never can be, or null
   */
  record Failed(JobCore core, String error, boolean reported, String reportAbandoned) implements Job {
    public JobStatus status() {
      return JobStatus.FAILED;
    }

    public Job with(JobCore core) {
      return new Failed(core, error, reported, reportAbandoned);
    }

    /** The error report is still to be written. */
    public boolean owesReport() {
      return !reported && reportAbandoned == null;
    }
  }

  record Cancelled(JobCore core, String reason) implements Job {
    public JobStatus status() {
      return JobStatus.CANCELLED;
    }

    public Job with(JobCore core) {
      return new Cancelled(core, reason);
    }
  }

  // ---- The fold

  /**
   * The state a job's events lead to, folded from {@link Blank} with the entity's own event handler: audits
   * rebuild jobs with it, and the entity recovers with the same handler, so the two cannot drift.
   */
  static RequestState replay(List<? extends Request.Event> events) {
    RequestState state = new Blank();
    for (Request.Event event : events) {
      state = next(state, event);
    }
    return state;
  }

  /** One step of {@link #replay}: the state {@code event} leads to from {@code state}. */
  static RequestState next(RequestState state, Request.Event event) {
    return Fold.HANDLER.apply(state, event);
  }

  /** Where a job that asked for review writes its result until approval: out of the way of routes and readers. */
  static ObjectRef heldOutput(String jobId, JobSpec spec) {
    return new ObjectRef(spec.output().bucket(), ".warmgate/review/" + jobId + "/" + spec.output().key());
  }

  /** The error a rejected job shows; the read side's fold ({@link JobSummary}) says the same. */
  static String rejectionError(ResultRejected rejected) {
    return "rejected in review by " + reviewerName(rejected.reviewer()) + ": " + rejected.reason();
  }

  static String reviewerName(String reviewer) {
    return reviewer == null ? "an anonymous reviewer" : reviewer;
  }

  /** The entity's event handler, built once (an interface holds no private constants). */
  final class Fold {
    static final EventHandler<RequestState, Request.Event> HANDLER = build();

    private Fold() {}

    private static EventHandler<RequestState, Request.Event> build() {
      EventHandlerBuilder<RequestState, Request.Event> builder = EventHandlerBuilder.builder();
      builder.forStateType(Blank.class)
          .onEvent(JobSubmitted.class, (s, e) -> new WaitingForInputs(
              new JobCore(e.jobId(), e.spec(), 0, 0, 0, e.at(), e.at(), null), List.copyOf(e.spec().inputs().keySet()),
                  e.inputsDeadline()));
      builder.forStateType(WaitingForInputs.class)
          .onEvent(InputsMissing.class, (s, e) -> new WaitingForInputs(s.core().touched(e.at()),
              List.copyOf(e.missing()), s.deadline()))
          .onEvent(JobQueued.class, (s, e) -> new Queued(s.core().touched(e.at())));
      builder.forStateType(Queued.class)
          .onEvent(AttemptStarted.class, (s, e) -> new Running(s.core().attempted(e.attempt(), e.at()), e.attempt(),
              e.leaseId()))
          .onEvent(EndpointUnavailable.class, (s, e) -> new RetryWait(s.core().touched(e.at()), e.retryAt(),
              e.reason()));
      builder.forStateType(Running.class)
          .onEvent(JobSucceeded.class, (s, e) -> new Succeeded(s.core().reaching(JobStatus.SUCCEEDED, e.at()),
              e.outputETag()))
          .onEvent(ResultHeld.class, (s, e) -> new AwaitingReview(s.core().reaching(JobStatus.AWAITING_REVIEW, e.at()),
              e.attempt(), e.heldETag()))
          .onEvent(AttemptFailed.class, (s, e) -> new RetryWait(s.core().touched(e.at()), e.retryAt(), e.error()))
          .onEvent(AsyncInvoked.class, (s, e) -> new Running(s.core().touched(e.at()), s.attempt(), s.leaseId(),
              new AsyncCall(e.inferenceId(), e.staged(), e.output(), e.failure(), e.resultBy())))
          // The attempt never ran: the job's count goes back to what it was before it.
          .onEvent(AttemptNotRun.class, (s, e) -> new Queued(s.core().attempted(e.attempt() - 1, e.at())));
      builder.forStateType(RetryWait.class)
          .onEvent(JobQueued.class, (s, e) -> new Queued(s.core().touched(e.at())));
      builder.forStateType(AwaitingReview.class)
          .onEvent(ResultApproved.class, (s, e) -> new Succeeded(s.core().reaching(JobStatus.SUCCEEDED, e.at()),
              e.outputETag()))
          .onEvent(ResultRejected.class, (s, e) -> new Failed(s.core().reaching(JobStatus.FAILED, e.at()),
              rejectionError(e), false, null));
      builder.forStateType(Failed.class)
          .onEvent(ErrorReported.class, (s, e) -> new Failed(s.core(), s.error(), true, null))
          .onEvent(ErrorReportAbandoned.class, (s, e) -> new Failed(s.core(), s.error(), false, e.reason()))
          .onEvent(JobRetried.class, (s, e) -> new WaitingForInputs(s.core().redriven(e.at()),
              List.copyOf(s.core().spec().inputs().keySet()), e.inputsDeadline()));
      builder.forStateType(Job.class)
          .onEvent(JobFailed.class, (s, e) -> new Failed(s.core().reaching(JobStatus.FAILED, e.at()), e.error(), false,
              null))
          .onEvent(JobCancelled.class, (s, e) -> new Cancelled(s.core().reaching(JobStatus.CANCELLED, e.at()),
              e.reason()))
          .onEvent(CallbackDelivered.class, (s, e) -> s.with(s.core().withCallback(null)))
          .onEvent(CallbackFailed.class, (s, e) -> s.with(s.core().withCallback(
              e.retryAt() == null ? null : new Callback(e.status(), e.attempt(), e.retryAt()))));
      return builder.build();
    }
  }
}
