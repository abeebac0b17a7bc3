package warmgate.request;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import warmgate.CborSerializable;
import warmgate.Failures;
import warmgate.blob.BlobInfo;
import warmgate.endpoint.EndpointCommand;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.job.ObjectRef;
import warmgate.job.Priority;
import warmgate.provider.AsyncInferenceClient;
import warmgate.provider.AsyncResult;
import warmgate.provider.InferenceException;

/**
 * What a job ({@link RequestEntity}) is asked, and what it answers. Sent between nodes (sharding), never journaled:
 * the journal's contract is {@link Request}.
 */
public sealed interface RequestCommand extends CborSerializable {

  /** Creates the job, or answers that it exists: a redelivered notification lands here as a duplicate. */
  record Submit(JobSpec spec, ActorRef<StatusReply<Submitted>> replyTo) implements RequestCommand {}

  record Get(ActorRef<JobLookup> replyTo) implements RequestCommand {}

  /**
   * Ends a waiting, queued, retrying or running job; the answer is the cancelled job, or a lookup of null when
   * no job has this id. A finished job refuses (an error reply); a cancelled one answers as it is.
   */
  record Cancel(String reason, ActorRef<StatusReply<JobLookup>> replyTo) implements RequestCommand {}

  /** Redrives a failed job from the start (its inputs are looked for again), with a fresh attempt budget. */
  record Retry(String reason, ActorRef<StatusReply<JobLookup>> replyTo) implements RequestCommand {}

  /** Publishes the result of a job awaiting review to its output; the job succeeds. */
  record Approve(String reviewer, ActorRef<StatusReply<JobLookup>> replyTo) implements RequestCommand {}

  /** Throws away the result of a job awaiting review; the job fails with the reason. */
  record Reject(String reviewer, String reason, ActorRef<StatusReply<JobLookup>> replyTo) implements RequestCommand {}

  /** The endpoint's answer to our request for a slot. */
  record Granted(EndpointCommand.Grant grant) implements RequestCommand {}

  /** The endpoint is FAILED and takes no jobs for now. */
  record EndpointRefused(EndpointCommand.Unavailable refusal) implements RequestCommand {}

  /** An endpoint's answer as the job's own command; also how a parked job's grant wakes it through sharding. */
  static RequestCommand slotReply(EndpointCommand.SlotReply reply) {
    if (reply instanceof EndpointCommand.Grant grant) {
      return new Granted(grant);
    } else if (reply instanceof EndpointCommand.Unavailable refusal) {
      return new EndpointRefused(refusal);
    } else if (reply instanceof EndpointCommand.TurnNear) {
      return new Wake(null); // its recovery, which asks for the slot, is all it takes
    } else if (reply instanceof EndpointCommand.ResultMayBeThere landed) {
      return new ResultNoticed(landed.location(), "an upload event on endpoint " + landed.endpoint()
          + "'s result path");
    }
    return new ParkAccepted((EndpointCommand.Parked) reply);
  }

  /** The endpoint holds the job's place in its queue by id: the job may leave memory. */
  record ParkAccepted(EndpointCommand.Parked parked) implements RequestCommand {}

  record InputsChecked(List<String> missing, String failure) implements RequestCommand {
    /** A look's outcome: a permanent refusal means an input can never exist; other failures are looked past. */
    static RequestCommand of(List<String> missing, Throwable failure) {
      if (failure == null) {
        return new InputsChecked(missing, null);
      }
      Throwable cause = Failures.unwrap(failure);
      return cause instanceof InferenceException e && e.kind() == InferenceException.Kind.PERMANENT
          ? new CannotRun(e.getMessage())
          : new InputsChecked(List.of(), String.valueOf(cause));
    }
  }

  /** The job can never run: an input can never exist, or its result can never be written. */
  record CannotRun(String reason) implements RequestCommand {}

  /**
   * @param attemptsAtMost the attempts of a run a failure of this kind allows ({@link
   *     InferenceException#attemptsAtMost}); 0: only {@code max-attempts} counts
   */
  record AttemptFinished(int attempt, String outputETag, InferenceException.Kind failureKind,
      String failure, int attemptsAtMost) implements RequestCommand {

    AttemptFinished(int attempt, String outputETag, InferenceException.Kind failureKind, String failure) {
      this(attempt, outputETag, failureKind, failure, 0);
    }

    static AttemptFinished succeeded(int attempt, BlobInfo output) {
      return new AttemptFinished(attempt, output.eTag(), null, null);
    }

    /**
     * An attempt's outcome; anything but the model's own refusal is transient, a timeout included. An error the JVM
     * cannot recover from ({@link VirtualMachineError}: out of memory) is no outcome: {@link AttemptDied}.
     */
    static RequestCommand of(int attempt, BlobInfo output, Throwable failure, Duration attemptTimeout) {
      if (failure == null) {
        return succeeded(attempt, output);
      }
      return failed(attempt, failure, attemptTimeout);
    }

    static RequestCommand failed(int attempt, Throwable failure, Duration attemptTimeout) {
      Throwable cause = Failures.unwrap(failure);
      if (cause instanceof VirtualMachineError fatal) {
        return new AttemptDied(attempt, String.valueOf(fatal));
      }
      return cause instanceof InferenceException e
          ? new AttemptFinished(attempt, null, e.kind(), e.getMessage(), e.attemptsAtMost())
          : new AttemptFinished(attempt, null, InferenceException.Kind.TRANSIENT,
              cause instanceof TimeoutException
                  ? "the attempt took longer than " + attemptTimeout.toSeconds() + " s (attempt-timeout)"
                  : String.valueOf(cause));
    }
  }

  /**
   * The attempt ended in an error of the JVM itself ({@link OutOfMemoryError}), which says nothing about the job: the
   * node is what failed. Never journaled as the job's outcome; the job leaves memory as if its node had crashed and
   * recovers from its journal as a running job whose attempt was interrupted. The shipped start scripts run the JVM
   * with {@code -XX:+ExitOnOutOfMemoryError}, so in production the node exits first and this is the crash itself.
   * Sent by the entity to itself.
   */
  record AttemptDied(int attempt, String error) implements RequestCommand {}

  /** An asynchronous endpoint queued the attempt's request. Sent by the entity to itself. */
  record AsyncAccepted(int attempt, ObjectRef staged, AsyncInferenceClient.Accepted accepted)
      implements RequestCommand {}

  /**
   * Word that the job's asynchronous invocation may have ended: the platform's notification (SNS), or an upload event
   * on the endpoint's result path. A reason to look at once, never the outcome itself; the job reads that from the
   * store.
   *
   * @param location where the answer or the failure was written, or null if the news does not say
   * @param source what brought the news, for the job's log
   */
  record ResultNoticed(ObjectRef location, String source) implements RequestCommand {

    /** A platform's notification of the invocation's end. */
    public static ResultNoticed of(AsyncResult result) {
      return new ResultNoticed(result.location(), "the platform's " + (result.succeeded() ? "success" : "failure")
          + " notification of inference " + result.inferenceId());
    }
  }

  /**
   * What a look at an asynchronous answer's place found: the answer copied to the job's output ({@code outputETag}),
   * the platform's failure ({@code failureKind} PERMANENT), nothing yet, or a look that failed (TRANSIENT). Sent by
   * the entity to itself.
   */
  record ResultLooked(int attempt, String outputETag, InferenceException.Kind failureKind, String failure)
      implements RequestCommand {
    static ResultLooked of(int attempt, Optional<BlobInfo> written, Throwable failure) {
      if (failure != null) {
        Throwable cause = Failures.unwrap(failure);
        return cause instanceof InferenceException e && e.kind() == InferenceException.Kind.PERMANENT
            ? new ResultLooked(attempt, null, InferenceException.Kind.PERMANENT, e.getMessage())
            : new ResultLooked(attempt, null, InferenceException.Kind.TRANSIENT, String.valueOf(cause));
      }
      return new ResultLooked(attempt, written.map(BlobInfo::eTag).orElse(null), null, null);
    }

    boolean found() {
      return outputETag != null;
    }
  }

  /** What a job recovered as running found at its output. */
  record OutputChecked(int attempt, String outputETag, boolean written, String failure) implements RequestCommand {
    static OutputChecked of(int attempt, Optional<BlobInfo> found, Throwable failure) {
      return failure != null
          ? new OutputChecked(attempt, null, false, String.valueOf(Failures.unwrap(failure)))
          : new OutputChecked(attempt, found.map(BlobInfo::eTag).orElse(null), found.isPresent(), null);
    }
  }

  /** The approved result was published (or could not be). */
  record Published(String reviewer, String outputETag, String failure,
      ActorRef<StatusReply<JobLookup>> replyTo) implements RequestCommand {}

  record ErrorReportWritten(String eTag, String failure) implements RequestCommand {}

  /** {@code {base}_error.json} can never be written: its reference breaks the key rules, or the store refuses it. */
  record ErrorReportRefused(String reason) implements RequestCommand {}

  record CallbackAnswered(JobStatus status, int attempt, int httpStatus, String failure) implements RequestCommand {}

  /**
   * Starts the job's actor, if it is not running, and does nothing else: recovery resumes whatever the job
   * was doing. The read side's waker sends it to every job that has work left after a restart, and waits for
   * the answer, sent once the job has recovered: a wake sent while sharding still routes to a node that is
   * gone is lost, and is sent again.
   *
   * @param replyTo answered {@code Done}; null: no answer
   */
  record Wake(ActorRef<Done> replyTo) implements RequestCommand {}

  /**
   * What sharding sends instead of stopping the actor outright, on passivation and when the job's shard moves
   * to another node. A job with work left asks, through sharding, to be woken at the shard's new home before
   * it stops: the region holds that message until the hand-off is done, so the job continues there.
   */
  enum Stop implements RequestCommand {
    INSTANCE
  }

  enum Timer implements RequestCommand {
    ACQUIRE_AGAIN,
    CHECK_INPUTS,
    RENEW_LEASE,
    RETRY_DUE,
    REPORT_ERROR,
    DELIVER_CALLBACK,
    PASSIVATE,
    PARK,
    /** Look for an asynchronous answer; also how an upload event on the endpoint's output path prompts the job. */
    LOOK_FOR_RESULT,
    /** Ask for a slot again after the endpoint could not take an attempt ({@link Request.AttemptNotRun}). */
    REQUEUE_DUE
  }

  // ---- Replies

  /**
   * @param duplicate the job already existed; nothing new was created
   * @param sameRequest for a duplicate, whether it was submitted with the same spec (an Idempotency-Key
   *     reused for a different request is not)
   */
  record Submitted(JobView job, boolean duplicate, boolean sameRequest) implements CborSerializable {}

  /**
   * A job as users see it (docs/api.md, `GET /v1/jobs/{jobId}`).
   *
   * @param heldOutput where the result awaiting review can be looked at; null otherwise
   * @param priority its turn within its owner's share of the endpoint
   */
  record JobView(
      String jobId,
      JobStatus status,
      String endpoint,
      String owner,
      int attempts,
      Instant createdAt,
      Instant updatedAt,
      Map<String, String> inputs,
      String output,
      String error,
      String heldOutput,
      Priority priority)
      implements CborSerializable {
    public JobView {
      priority = priority == null ? Priority.INTERACTIVE : priority;
    }
  }

  /** The job, or null when no job has this id. */
  record JobLookup(JobView job) implements CborSerializable {}
}
