package warmgate.request;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import warmgate.config.RequestSettings;
import warmgate.job.JobSpec;
import warmgate.job.ObjectRef;
import warmgate.provider.AsyncInferenceClient;
import warmgate.provider.InferenceException;
import warmgate.request.Request.AsyncInvoked;
import warmgate.request.RequestCommand.AsyncAccepted;
import warmgate.request.RequestCommand.AttemptFinished;
import warmgate.request.RequestCommand.ResultLooked;
import warmgate.request.RequestCommand.ResultNoticed;
import warmgate.request.RequestCommand.Timer;
import warmgate.request.RequestState.AsyncCall;
import warmgate.request.RequestState.Running;

/**
 * A running attempt on an asynchronous endpoint ({@code sagemaker-async}): the request is staged and queued, the
 * queued invocation persisted ({@link AsyncInvoked}) before anything else, and the answer collected when it is
 * there. Whichever says so first counts: the platform's notification ({@link ResultNoticed}), an upload event on the
 * endpoint's output path (a {@link Timer#LOOK_FOR_RESULT} sent through the endpoint), or the job's own looks, which
 * grow from {@code result-look-first} to {@code result-look-max} and stop when the platform has given up on the
 * request. The attempt keeps its slot, renewed, until then: the endpoint's {@code max-concurrency} bounds the
 * invocations in flight.
 *
 * <p>The one window where a job can invoke twice: a crash after the endpoint queued the request and before
 * {@link AsyncInvoked} is journaled. The job then recovers as running without an invocation, looks for its own
 * output as any interrupted attempt does, and, finding none, tries again; the first invocation's answer stays
 * unclaimed at the platform's output path.
 */
final class AsyncAttempts {
  private final RequestEntity entity;
  private final String jobId;
  private final RequestEntity.Deps deps;
  private final RequestSettings settings;
  private final Clock clock;
  private final ActorContext<RequestCommand> ctx;
  private final TimerScheduler<RequestCommand> timers;
  private final Slots slots;
  private boolean looking;
  /** News came while the invocation was still being accepted: SageMaker can answer before we journal. */
  private boolean noticedEarly;
  private Duration nextLook;

  AsyncAttempts(RequestEntity entity, String jobId, RequestEntity.Deps deps, ActorContext<RequestCommand> ctx,
      TimerScheduler<RequestCommand> timers, Slots slots) {
    this.entity = entity;
    this.jobId = jobId;
    this.deps = deps;
    this.settings = deps.settings();
    this.clock = deps.clock();
    this.ctx = ctx;
    this.timers = timers;
    this.slots = slots;
    this.nextLook = settings.resultLookFirst();
  }

  /** Stages the attempt's request and has the endpoint queue it; bounded by {@code attempt-timeout}. */
  void start(int attempt, JobSpec spec, ObjectRef target, AsyncInferenceClient client) {
    noticedEarly = false;
    ctx.pipeToSelf(
        deps.step().startAsync(jobId, attempt, spec, target, client)
            .toCompletableFuture()
            .orTimeout(settings.attemptTimeout().toMillis(), TimeUnit.MILLISECONDS),
        (staged, failure) -> failure == null
            ? new AsyncAccepted(attempt, staged.staged(), staged.accepted())
            : AttemptFinished.failed(attempt, failure, settings.attemptTimeout()));
  }

  ReplyEffect<Request.Event, RequestState> accepted(Running state, AsyncAccepted cmd) {
    if (cmd.attempt() != state.attempt() || state.call() != null) {
      return entity.Effect().noReply();
    }
    Instant now = clock.instant();
    AsyncInferenceClient.Accepted accepted = cmd.accepted();
    Instant resultBy = now.plus(client(state).resultWithin());
    return entity.persist(state, new AsyncInvoked(state.attempt(), accepted.inferenceId(), cmd.staged(),
            accepted.output(), accepted.failure(), resultBy, now))
        .thenRun(s -> {
          entity.log().info("Job {}: endpoint {} queued attempt {} (inference {}); its answer goes to {}", jobId,
              state.core().spec().endpoint(), state.attempt(), accepted.inferenceId(), accepted.output());
          nextLook = settings.resultLookFirst();
          if (noticedEarly) {
            noticedEarly = false;
            ctx.getSelf().tell(Timer.LOOK_FOR_RESULT);
          } else {
            lookLater();
          }
        })
        .thenNoReply();
  }

  /** The invocation may have ended: look now, if the news is about this attempt's invocation. */
  ReplyEffect<Request.Event, RequestState> noticed(Running state, ResultNoticed cmd) {
    AsyncCall call = state.call();
    if (call == null && deps.step().asyncClient(state.core().spec().endpoint()).isPresent()) {
      entity.log().info("Job {}: {} came before its invocation was journaled; it looks as soon as it is", jobId,
          cmd.source());
      noticedEarly = true;
      return entity.Effect().noReply();
    }
    if (call == null || !call.mayEndAt(cmd.location())) {
      entity.log().debug("Job {}: {} names {}, not where its current invocation answers; ignored", jobId,
          cmd.source(), cmd.location());
      return entity.Effect().noReply();
    }
    entity.log().info("Job {}: looking for the answer of attempt {} at once, after {}", jobId, state.attempt(),
        cmd.source());
    return look(state);
  }

  /** The look timer, or an upload on the endpoint's output path. */
  ReplyEffect<Request.Event, RequestState> look(Running state) {
    AsyncCall call = state.call();
    if (call == null || looking) {
      return entity.Effect().noReply();
    }
    looking = true;
    int attempt = state.attempt();
    ctx.pipeToSelf(deps.step().collectAsync(jobId, attempt, call.output(), call.failure(), call.staged(),
            entity.active.target(state.core().spec()), entity.active::stillWanted),
        (written, failure) -> ResultLooked.of(attempt, written, failure));
    return entity.Effect().noReply();
  }

  ReplyEffect<Request.Event, RequestState> looked(Running state, ResultLooked cmd) {
    looking = false;
    AsyncCall call = state.call();
    if (cmd.attempt() != state.attempt() || call == null) {
      return entity.Effect().noReply();
    }
    if (cmd.found()) {
      return entity.active.attemptFinished(state, new AttemptFinished(cmd.attempt(), cmd.outputETag(), null, null));
    }
    if (cmd.failureKind() == InferenceException.Kind.PERMANENT) {
      return entity.active.attemptFinished(state, new AttemptFinished(cmd.attempt(), null, cmd.failureKind(),
          cmd.failure()));
    }
    if (cmd.failureKind() != null) {
      entity.log().warn("Job {}: looking for the answer at {} failed, will look again: {}", jobId, call.output(),
          cmd.failure());
    }
    if (!clock.instant().isBefore(call.resultBy())) {
      deps.step().discardStaged(call.staged());
      return entity.active.attemptFinished(state, new AttemptFinished(cmd.attempt(), null,
          InferenceException.Kind.TRANSIENT, "no answer at " + call.output() + " by " + call.resultBy()
              + ", when the endpoint gives up on the request (invocation-timeout + request-ttl)"));
    }
    lookLater();
    return entity.Effect().noReply();
  }

  /**
   * After a restart with an invocation under way: the slot is still the job's (the endpoint is told so), and the
   * answer may have come meanwhile.
   */
  void resume(Running running) {
    entity.log().info("Job {}: attempt {} was waiting for the answer of inference {}; looking for it", jobId,
        running.attempt(), running.call().inferenceId());
    slots.renew(running.core().spec(), running.leaseId());
    // The grant's ttl died with the actor; the queue's own interval is well inside any lease ttl.
    timers.startTimerWithFixedDelay(Timer.RENEW_LEASE, Timer.RENEW_LEASE, settings.acquireInterval());
    nextLook = settings.resultLookFirst();
    ctx.getSelf().tell(Timer.LOOK_FOR_RESULT);
  }

  private void lookLater() {
    timers.startSingleTimer(Timer.LOOK_FOR_RESULT, Timer.LOOK_FOR_RESULT, nextLook);
    Duration doubled = nextLook.multipliedBy(2);
    nextLook = doubled.compareTo(settings.resultLookMax()) > 0 ? settings.resultLookMax() : doubled;
  }

  private AsyncInferenceClient client(Running state) {
    return deps.step().asyncClient(state.core().spec().endpoint()).orElseThrow(() -> new IllegalStateException(
        "endpoint " + state.core().spec().endpoint() + " is no longer asynchronous"));
  }
}
