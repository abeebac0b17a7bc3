package warmgate.request;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import warmgate.Backoff;
import warmgate.config.RequestSettings;
import warmgate.endpoint.EndpointCommand;
import warmgate.job.JobSpec;
import warmgate.job.ObjectRef;
import warmgate.provider.InferenceException;
import warmgate.request.Request.AttemptFailed;
import warmgate.request.Request.AttemptNotRun;
import warmgate.request.Request.AttemptStarted;
import warmgate.request.Request.EndpointUnavailable;
import warmgate.request.Request.InputsMissing;
import warmgate.request.Request.JobQueued;
import warmgate.request.Request.JobSubmitted;
import warmgate.request.Request.JobSucceeded;
import warmgate.request.Request.ResultHeld;
import warmgate.request.RequestCommand.AttemptDied;
import warmgate.request.RequestCommand.AttemptFinished;
import warmgate.request.RequestCommand.CannotRun;
import warmgate.request.RequestCommand.EndpointRefused;
import warmgate.request.RequestCommand.Granted;
import warmgate.request.RequestCommand.InputsChecked;
import warmgate.request.RequestCommand.OutputChecked;
import warmgate.request.RequestCommand.Submit;
import warmgate.request.RequestCommand.Submitted;
import warmgate.request.RequestCommand.Timer;
import warmgate.request.RequestState.Blank;
import warmgate.request.RequestState.Job;
import warmgate.request.RequestState.Queued;
import warmgate.request.RequestState.RetryWait;
import warmgate.request.RequestState.Running;
import warmgate.request.RequestState.WaitingForInputs;

/**
 * The handlers of a job on its way to a result, phase by phase: submitted and waiting for its inputs, queued for a
 * slot (parking), running an attempt, waiting to retry. {@link RequestEntity} picks the handler; a result or a
 * failure hands the job to {@link AtRestPhases}.
 */
final class ActivePhases {
  private final RequestEntity entity;
  private final String jobId;
  private final RequestEntity.Deps deps;
  private final RequestSettings settings;
  private final Clock clock;
  private final ActorContext<RequestCommand> ctx;
  private final TimerScheduler<RequestCommand> timers;
  private final Slots slots;
  private boolean checkingInputs;
  // Read by the attempt's own stages on other threads, so it can drop the result of a cancelled job before
  // writing it; volatile because it crosses threads, and never persisted (the event is the record).
  private volatile boolean cancelled;

  ActivePhases(RequestEntity entity, String jobId, RequestEntity.Deps deps, ActorContext<RequestCommand> ctx,
      TimerScheduler<RequestCommand> timers, Slots slots) {
    this.entity = entity;
    this.jobId = jobId;
    this.deps = deps;
    this.settings = deps.settings();
    this.clock = deps.clock();
    this.ctx = ctx;
    this.timers = timers;
    this.slots = slots;
  }

  /** Set when the job is cancelled, cleared when it is redriven. */
  void cancelled(boolean value) {
    cancelled = value;
  }

  /** Whether an attempt's result should still be written; asked on the attempt's own threads. */
  boolean stillWanted() {
    return !cancelled;
  }

  // ---- Submission and inputs

  ReplyEffect<Request.Event, RequestState> submit(Blank state, Submit cmd) {
    Instant now = clock.instant();
    return persist(state, new JobSubmitted(jobId, cmd.spec(), now.plus(settings.inputsTimeout()), now))
        .thenRun(s -> {
          // Started blank, the actor armed its passivation (resume); a job with work must not leave memory, or
          // every new job would stop passivate-after later and be woken and recovered again at once.
          timers.cancel(Timer.PASSIVATE);
          entity.log().info("Job {} submitted for endpoint {} ({})", jobId, cmd.spec().endpoint(), cmd.spec().source());
          waitForInputs(cmd.spec());
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new Submitted(((Job) s).view(), false, true)));
  }

  void waitForInputs(JobSpec spec) {
    timers.startTimerWithFixedDelay(Timer.CHECK_INPUTS, Timer.CHECK_INPUTS, settings.inputsCheckInterval());
    lookForInputs(spec);
  }

  ReplyEffect<Request.Event, RequestState> checkInputs(WaitingForInputs state) {
    lookForInputs(state.core().spec());
    return Effect().noReply();
  }

  private void lookForInputs(JobSpec spec) {
    if (checkingInputs) {
      return; // the last look has not answered yet
    }
    checkingInputs = true;
    // Before any look: a job journaled before the edge checked references would otherwise wait out
    // inputs-timeout for an input that can never exist, or run the model for an output that can never be written.
    Optional<String> never = InferenceStep.neverRuns(spec, target(spec));
    if (never.isPresent()) {
      ctx.getSelf().tell(new CannotRun(never.get()));
      return;
    }
    ctx.pipeToSelf(deps.step().missingInputs(spec), InputsChecked::of);
  }

  ReplyEffect<Request.Event, RequestState> cannotRun(WaitingForInputs state, CannotRun cmd) {
    checkingInputs = false;
    return entity.atRest.fail(state, cmd.reason(), clock.instant());
  }

  ReplyEffect<Request.Event, RequestState> inputsChecked(WaitingForInputs state, InputsChecked cmd) {
    checkingInputs = false;
    Instant now = clock.instant();
    if (cmd.failure() == null && cmd.missing().isEmpty()) {
      timers.cancel(Timer.CHECK_INPUTS);
      return persist(state, new JobQueued(now))
          .thenRun(s -> acquire(state.core().spec()))
          .thenNoReply();
    }
    if (!now.isBefore(state.deadline())) {
      timers.cancel(Timer.CHECK_INPUTS);
      String what = cmd.failure() != null
          ? "the inputs could not be checked: " + cmd.failure()
          : describeMissing(state.core().spec(), cmd.missing()) + " did not arrive within "
              + settings.inputsTimeout().toSeconds() + " s";
      return entity.atRest.fail(state, what, now);
    }
    if (cmd.failure() != null) {
      entity.log().warn("Job {}: checking inputs failed, will look again: {}", jobId, cmd.failure());
      return Effect().noReply();
    }
    if (!cmd.missing().equals(state.missing())) {
      return persist(state, new InputsMissing(cmd.missing(), now))
          .thenRun(s -> {
            entity.log().info("Job {} waits for {}", jobId, describeMissing(state.core().spec(), cmd.missing()));
            warmUpWhileWaiting(state.core().spec());
          })
          .thenNoReply();
    }
    return Effect().noReply(); // still waiting for the same inputs; the timer looks again
  }

  /**
   * A route with {@code warm-on-first-input}: the endpoint starts now, so its cold start overlaps the missing input's
   * upload instead of following it. Sent once the wait is journaled; if the input never comes, the endpoint stops
   * when idle as for any job, and that start is the price of the option.
   */
  private void warmUpWhileWaiting(JobSpec spec) {
    if (spec.warmOnFirstInput() && slots.warmUp(spec.endpoint())) {
      entity.log().info("Job {} asks endpoint {} to warm up while it waits (warm-on-first-input)", jobId,
          spec.endpoint());
    }
  }

  private static String describeMissing(JobSpec spec, List<String> names) {
    return String.join(", ", names.stream().map(n -> n + " " + spec.inputs().get(n)).toList());
  }

  // ---- Queued: slots, parking, a FAILED endpoint

  void acquire(JobSpec spec) {
    timers.startTimerWithFixedDelay(Timer.ACQUIRE_AGAIN, Timer.ACQUIRE_AGAIN, settings.acquireInterval());
    if (!settings.parkAfter().isZero()) {
      timers.startTimerWithFixedDelay(Timer.PARK, Timer.PARK, settings.parkAfter());
    }
    slots.ask(spec);
  }

  ReplyEffect<Request.Event, RequestState> askForSlot(Queued state) {
    slots.ask(state.core().spec());
    return Effect().noReply();
  }

  /**
   * Waited {@code park-after} in memory: asks the endpoint to keep the job's place by id. Until it answers, the job
   * keeps asking for a slot as before; the endpoint does not answer a job it has no place for (a full queue).
   */
  ReplyEffect<Request.Event, RequestState> park(Queued state) {
    slots.park(state.core().spec().endpoint());
    return Effect().noReply();
  }

  /**
   * Leaves memory with its place kept, unless it asked for a slot since ({@link Slots#parkAccepted}); the next park
   * tries again. Nothing is persisted: the journal already says QUEUED, which is what a woken job resumes from.
   */
  ReplyEffect<Request.Event, RequestState> parkAccepted(Queued state) {
    if (!slots.parkAccepted()) {
      return Effect().noReply();
    }
    timers.cancel(Timer.ACQUIRE_AGAIN);
    timers.cancel(Timer.PARK);
    entity.log().debug("Job {} parks in the queue of endpoint {}", jobId, state.core().spec().endpoint());
    return entity.passivate();
  }

  ReplyEffect<Request.Event, RequestState> endpointRefused(Queued state, EndpointRefused cmd) {
    Duration wait = cmd.refusal().retryAfter();
    // Spread the jobs' next asks, so a recovered endpoint is not hit by all of them in the same second.
    Instant retryAt = clock.instant().plus(wait.plusMillis(ThreadLocalRandom.current().nextLong(wait.toMillis() / 2
        + 1)));
    return persist(state, new EndpointUnavailable(cmd.refusal().reason(), retryAt, clock.instant()))
        .thenRun(s -> {
          timers.cancel(Timer.ACQUIRE_AGAIN);
          timers.cancel(Timer.PARK);
          entity.log().warn("Job {} waits until {}: {}", jobId, retryAt, cmd.refusal().reason());
          scheduleRetry(retryAt);
        })
        .thenNoReply();
  }

  ReplyEffect<Request.Event, RequestState> granted(Queued state, Granted cmd) {
    int attempt = state.core().attempts() + 1;
    EndpointCommand.Grant grant = cmd.grant();
    return persist(state, new AttemptStarted(attempt, grant.leaseId(), clock.instant()))
        .thenRun(s -> {
          timers.cancel(Timer.ACQUIRE_AGAIN);
          timers.cancel(Timer.PARK);
          timers.startTimerWithFixedDelay(Timer.RENEW_LEASE, Timer.RENEW_LEASE, grant.ttl().dividedBy(3));
          entity.log().info("Job {} runs attempt {} on endpoint {}", jobId, attempt, grant.endpoint());
          JobSpec spec = state.core().spec();
          var async = deps.step().asyncClient(spec.endpoint());
          if (async.isPresent()) {
            entity.async.start(attempt, spec, target(spec), async.get());
            return;
          }
          ctx.pipeToSelf(
              deps.step().run(jobId, attempt, state.core().spec(), target(state.core().spec()), () -> !cancelled)
                  .toCompletableFuture()
                  .orTimeout(settings.attemptTimeout().toMillis(), TimeUnit.MILLISECONDS),
              (output, failure) -> AttemptFinished.of(attempt, output, failure, settings.attemptTimeout()));
        })
        .thenNoReply();
  }

  // ---- Running: attempts and their outcomes

  ReplyEffect<Request.Event, RequestState> renew(Running state) {
    slots.renew(state.core().spec(), state.leaseId());
    return Effect().noReply();
  }

  ReplyEffect<Request.Event, RequestState> attemptFinished(Running state, AttemptFinished cmd) {
    if (cmd.attempt() != state.attempt()) {
      return Effect().noReply(); // a late answer of an attempt that was already given up
    }
    // The endpoint's work is over once the answer is here: its slot goes back now, not after the write below,
    // so the next job runs while this one's outcome is being journaled. A crash before that write is the
    // crash of a running job: it recovers as running and finds its output (or retries).
    releaseLease(state);
    Instant now = clock.instant();
    if (cmd.failureKind() == null) {
      return succeeded(state, cmd.attempt(), cmd.outputETag(), now, "succeeded");
    }
    if (cmd.failureKind() == InferenceException.Kind.PERMANENT) {
      return entity.atRest.fail(state, "attempt " + cmd.attempt() + " failed permanently: " + cmd.failure(), now);
    }
    if (cmd.failureKind() == InferenceException.Kind.NOT_READY) {
      return notRun(state, cmd, now);
    }
    int allowed = cmd.attemptsAtMost() > 0 ? Math.min(cmd.attemptsAtMost(), settings.maxAttempts())
        : settings.maxAttempts();
    return retryOrFail(state, cmd.attempt(), cmd.failure(), now, allowed);
  }

  /**
   * The attempt ran the JVM out of memory (or into another error of its own): not the job's fault, and not its
   * outcome. Its slot goes back, nothing is journaled, and the job recovers from its journal as a running job whose
   * attempt was interrupted (it looks for its output, then retries), exactly as after its node crashed.
   */
  ReplyEffect<Request.Event, RequestState> attemptDied(Running state, AttemptDied cmd) {
    if (cmd.attempt() != state.attempt()) {
      return Effect().noReply(); // an attempt the job has already given up
    }
    releaseLease(state);
    entity.log().error("Job {}: attempt {} hit {}; not the job's outcome: it restarts from its journal as after a "
        + "crash (run the JVM with -XX:+ExitOnOutOfMemoryError, as the shipped scripts do)", jobId, cmd.attempt(),
        cmd.error());
    return entity.restartFromJournal();
  }

  /**
   * The endpoint could not take the attempt yet (an inference component with no copies): back to the queue without
   * spending an attempt, asking again after {@code backoff-min} so a scaling endpoint is not hammered.
   */
  private ReplyEffect<Request.Event, RequestState> notRun(Running state, AttemptFinished cmd, Instant now) {
    return persist(state, new AttemptNotRun(cmd.attempt(), cmd.failure(), now))
        .thenRun(s -> {
          entity.log().info("Job {}: endpoint {} could not take attempt {} yet, queued again: {}", jobId,
              state.core().spec().endpoint(), cmd.attempt(), cmd.failure());
          timers.startSingleTimer(Timer.REQUEUE_DUE, Timer.REQUEUE_DUE, settings.backoffMin());
        })
        .thenNoReply();
  }

  /** Queued again after the endpoint could not take an attempt ({@link #notRun}). */
  ReplyEffect<Request.Event, RequestState> requeueDue(Queued state) {
    acquire(state.core().spec());
    return Effect().noReply();
  }

  /** After a restart: the attempt under way died with the actor; returns its lease and looks for what it wrote. */
  void lookForOutput(Running running) {
    entity.log().info("Job {} was running attempt {} when its actor stopped; looking for its output", jobId,
        running.attempt());
    slots.release(running.core().spec().endpoint(), running.leaseId());
    ctx.pipeToSelf(deps.step().writtenBy(jobId, target(running.core().spec())),
        (found, failure) -> OutputChecked.of(running.attempt(), found, failure));
  }

  /** Only after a restart; the lease was returned then ({@link #lookForOutput}). */
  ReplyEffect<Request.Event, RequestState> outputChecked(Running state, OutputChecked cmd) {
    Instant now = clock.instant();
    if (cmd.written()) {
      return succeeded(state, cmd.attempt(), cmd.outputETag(), now,
          "succeeded; its output was written before the interruption");
    }
    String why = cmd.failure() == null
        ? "attempt " + cmd.attempt() + " was interrupted (its node stopped before the output was written)"
        : "attempt " + cmd.attempt() + " was interrupted and its output could not be checked: " + cmd.failure();
    return retryOrFail(state, cmd.attempt(), why, now, settings.maxAttempts());
  }

  /** A result written: published at once, or held for review when the job asked for one. */
  private ReplyEffect<Request.Event, RequestState> succeeded(Running state, int attempt, String eTag, Instant now,
      String how) {
    JobSpec spec = state.core().spec();
    if (spec.requireReview()) {
      return persist(state, new ResultHeld(attempt, eTag, now))
          .thenRun(s -> {
            entity.log().info("Job {} {}; the result waits for review at {}", jobId, how,
                RequestState.heldOutput(jobId, spec));
            entity.atRest.settle(s);
          })
          .thenNoReply();
    }
    return persist(state, new JobSucceeded(attempt, eTag, now))
        .thenRun(s -> {
          entity.log().info("Job {} {}; output {}", jobId, how, spec.output());
          entity.atRest.settle(s);
        })
        .thenNoReply();
  }

  /** @param allowed the attempts this run may make, given how the last one failed */
  private ReplyEffect<Request.Event, RequestState> retryOrFail(Running state, int attempt, String error, Instant now,
      int allowed) {
    if (attempt - state.core().runStart() >= allowed) {
      return entity.atRest.fail(state, "gave up after " + (attempt - state.core().runStart())
          + " attempts; last error: " + error, now);
    }
    // Exponential with equal jitter, so a burst of failures spreads out.
    Instant retryAt = now.plus(Backoff.delay(settings.backoffMin(), settings.backoffMax(), attempt,
        ThreadLocalRandom.current().nextDouble()));
    return persist(state, new AttemptFailed(attempt, error, retryAt, now))
        .thenRun(s -> {
          entity.log().warn("Job {}: attempt {} failed, retrying at {}: {}", jobId, attempt, retryAt, error);
          scheduleRetry(retryAt);
        })
        .thenNoReply();
  }

  void releaseLease(Running state) {
    timers.cancel(Timer.RENEW_LEASE);
    slots.release(state.core().spec().endpoint(), state.leaseId());
  }

  /** Where an attempt writes its result: aside for review, or the output itself. */
  ObjectRef target(JobSpec spec) {
    return spec.requireReview() ? RequestState.heldOutput(jobId, spec) : spec.output();
  }

  // ---- RetryWait

  void scheduleRetry(Instant retryAt) {
    Duration delay = Duration.between(clock.instant(), retryAt);
    timers.startSingleTimer(Timer.RETRY_DUE, Timer.RETRY_DUE, delay.isNegative() ? Duration.ZERO : delay);
  }

  ReplyEffect<Request.Event, RequestState> requeue(RetryWait state) {
    return persist(state, new JobQueued(clock.instant()))
        .thenRun(s -> acquire(state.core().spec()))
        .thenNoReply();
  }

  // Named as in the entity, whose effects these are.
  private EffectFactories<Request.Event, RequestState> Effect() {
    return entity.Effect();
  }

  private EffectBuilder<Request.Event, RequestState> persist(RequestState before, Request.Event event) {
    return entity.persist(before, event);
  }
}
