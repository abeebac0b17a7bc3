package warmgate.request;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilderByState;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.MDC;
import warmgate.CborSerializable;
import warmgate.blob.BlobInfo;
import warmgate.config.RequestSettings;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.endpoint.InferenceException;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;

/**
 * One job, from submission to its end; sharded by job id and event-sourced, so it never forgets where it is.
 *
 * <p>A submitted job first waits until its inputs exist (an image may arrive before its mask), then asks its
 * endpoint for a slot, runs the inference step under that lease, and ends succeeded or failed. Transient
 * failures are retried with exponential backoff and jitter up to {@code max-attempts}. After a crash it
 * resumes: a queued job asks for a slot again, and a job that was running looks for the output it may have
 * written before it died: found, it succeeded; not found, the attempt counts as interrupted and is retried.
 */
public final class Request
    extends EventSourcedBehaviorWithEnforcedReplies<Request.Command, Request.Event, Request.State> {

  // ---- Commands

  public sealed interface Command extends CborSerializable {}

  /** Creates the job, or answers that it exists: a redelivered notification lands here as a duplicate. */
  public record Submit(JobSpec spec, ActorRef<StatusReply<Submitted>> replyTo) implements Command {}

  public record Get(ActorRef<JobLookup> replyTo) implements Command {}

  /**
   * Ends a waiting, queued, retrying or running job; the answer is the cancelled job, or a lookup of null when
   * no job has this id. A finished job refuses (an error reply); a cancelled one answers as it is.
   */
  public record Cancel(String reason, ActorRef<StatusReply<JobLookup>> replyTo) implements Command {}

  /** The endpoint's answer to our request for a slot. */
  public record Granted(EndpointLifecycle.Grant grant) implements Command {}

  record InputsChecked(List<String> missing, String failure) implements Command {}

  record AttemptFinished(int attempt, String outputETag, InferenceException.Kind failureKind, String failure) implements Command {
    static AttemptFinished succeeded(int attempt, BlobInfo output) {
      return new AttemptFinished(attempt, output.eTag(), null, null);
    }
  }

  /** What a job recovered as running found at its output. */
  record OutputChecked(int attempt, String outputETag, boolean written, String failure) implements Command {}

  enum Timer implements Command {
    ACQUIRE_AGAIN,
    CHECK_INPUTS,
    RENEW_LEASE,
    RETRY_DUE,
    PASSIVATE
  }

  // ---- Replies

  /**
   * @param duplicate the job already existed; nothing new was created
   * @param sameRequest for a duplicate, whether it was submitted with the same spec (an Idempotency-Key
   *     reused for a different request is not)
   */
  public record Submitted(JobView job, boolean duplicate, boolean sameRequest) implements CborSerializable {}

  /** A job as users see it (DESIGN.md). */
  public record JobView(
      String jobId,
      JobStatus status,
      String endpoint,
      String owner,
      int attempts,
      Instant createdAt,
      Instant updatedAt,
      Map<String, String> inputs,
      String output,
      String error)
      implements CborSerializable {}

  /** The job, or null when no job has this id. */
  public record JobLookup(JobView job) implements CborSerializable {}

  // ---- Events

  public sealed interface Event extends CborSerializable {
    Instant at();
  }

  public record JobSubmitted(String jobId, JobSpec spec, Instant inputsDeadline, Instant at) implements Event {}

  public record InputsMissing(List<String> missing, Instant at) implements Event {}

  public record JobQueued(Instant at) implements Event {}

  public record AttemptStarted(int attempt, String leaseId, Instant at) implements Event {}

  /** A transient failure; the job tries again at {@code retryAt}. */
  public record AttemptFailed(int attempt, String error, Instant retryAt, Instant at) implements Event {}

  public record JobSucceeded(int attempt, String outputETag, Instant at) implements Event {}

  public record JobFailed(String error, Instant at) implements Event {}

  public record JobCancelled(String reason, Instant at) implements Event {}

  // ---- State

  public sealed interface State extends CborSerializable {}

  /** No job has this id (yet). */
  public record Blank() implements State {}

  /** What every stage of a job knows. */
  public record JobCore(String jobId, JobSpec spec, int attempts, Instant createdAt, Instant updatedAt) implements CborSerializable {
    JobCore touched(Instant at) {
      return new JobCore(jobId, spec, attempts, createdAt, at);
    }

    JobCore attempted(int attempt, Instant at) {
      return new JobCore(jobId, spec, attempt, createdAt, at);
    }
  }

  public sealed interface Job extends State {
    JobCore core();

    JobStatus status();

    default String error() {
      return null;
    }
  }

  /** @param missing input names not found at the last look; all of them before the first */
  public record WaitingForInputs(JobCore core, List<String> missing, Instant deadline) implements Job {
    public JobStatus status() {
      return JobStatus.WAITING_FOR_INPUTS;
    }
  }

  public record Queued(JobCore core) implements Job {
    public JobStatus status() {
      return JobStatus.QUEUED;
    }
  }

  public record Running(JobCore core, int attempt, String leaseId) implements Job {
    public JobStatus status() {
      return JobStatus.RUNNING;
    }
  }

  public record RetryWait(JobCore core, Instant retryAt, String error) implements Job {
    public JobStatus status() {
      return JobStatus.RETRY_WAIT;
    }
  }

  public record Succeeded(JobCore core, String outputETag) implements Job {
    public JobStatus status() {
      return JobStatus.SUCCEEDED;
    }
  }

  public record Failed(JobCore core, String error) implements Job {
    public JobStatus status() {
      return JobStatus.FAILED;
    }
  }

  public record Cancelled(JobCore core, String reason) implements Job {
    public JobStatus status() {
      return JobStatus.CANCELLED;
    }
  }

  // ---- Sharding

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Request");

  /** Four tags spread the read side's load; a job's tag never changes. */
  static final List<String> TAGS = List.of("job-0", "job-1", "job-2", "job-3");

  /** What a job needs from the rest of the system. */
  public record Deps(
      InferenceStep step,
      Function<String, RecipientRef<EndpointLifecycle.Command>> endpoints,
      RequestSettings settings,
      Clock clock) {}

  /**
   * Registers the entity with sharding. Remembered: after a full restart every job that had not ended is
   * started again by sharding itself, so none waits for a notification that will not come again. Finished
   * jobs passivate, which takes them off that list.
   */
  public static void init(ActorSystem<?> system, Deps deps) {
    ClusterSharding.get(system)
        .init(
            Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), deps, ctx.getShard()))
                .withSettings(ClusterShardingSettings.create(system).withRememberEntities(true)));
  }

  /** @param shard where to ask for passivation; null outside sharding (tests), where the actor just stops */
  public static Behavior<Command> create(String jobId, Deps deps, ActorRef<ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.setLoggerName(Request.class);
      return new Request(jobId, deps, shard, ctx, timers);
    }));
  }

  // ---- Behaviour

  private final String jobId;
  private final Deps deps;
  private final RequestSettings settings;
  private final Clock clock;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final ActorRef<EndpointLifecycle.Grant> grantAdapter;
  private boolean checkingInputs;
  // Read by the attempt's own stages on other threads, so it can drop the result of a cancelled job before
  // writing it; volatile because it crosses threads, and never persisted (the event is the record).
  private volatile boolean cancelled;

  private Request(String jobId, Deps deps, ActorRef<ClusterSharding.ShardCommand> shard, ActorContext<Command> ctx,
      TimerScheduler<Command> timers) {
    super(
        PersistenceId.of(ENTITY_KEY.name(), jobId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.jobId = jobId;
    this.deps = deps;
    this.settings = deps.settings();
    this.clock = deps.clock();
    this.shard = shard;
    this.ctx = ctx;
    this.timers = timers;
    this.grantAdapter = ctx.messageAdapter(EndpointLifecycle.Grant.class, Granted::new);
  }

  @Override
  public State emptyState() {
    return new Blank();
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return Set.of(TAGS.get(Math.floorMod(jobId.hashCode(), TAGS.size())));
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), this::resume).build();
  }

  /** Picks up where the job was when its actor last stopped: after passivation, a rebalance or a crash. */
  private void resume(State state) {
    if (state instanceof WaitingForInputs waiting) {
      waitForInputs(waiting.core().spec());
    } else if (state instanceof Queued queued) {
      acquire(queued.core().spec().endpoint());
    } else if (state instanceof Running running) {
      log().info("Job {} was running attempt {} when its actor stopped; looking for its output", jobId, running.attempt());
      deps.endpoints().apply(running.core().spec().endpoint()).tell(new EndpointLifecycle.Release(jobId, running.leaseId()));
      ctx.pipeToSelf(deps.step().outputWrittenBy(jobId, running.core().spec()), (found, failure) -> failure != null
          ? new OutputChecked(running.attempt(), null, false, String.valueOf(InferenceStep.unwrap(failure)))
          : new OutputChecked(running.attempt(), found.map(BlobInfo::eTag).orElse(null), found.isPresent(), null));
    } else if (state instanceof RetryWait retry) {
      scheduleRetry(retry.retryAt());
    } else {
      // Blank (someone asked about an unknown id) or finished: nothing to do but leave memory.
      timers.startSingleTimer(Timer.PASSIVATE, Timer.PASSIVATE, settings.passivateAfter());
    }
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return blank()
        .orElse(waitingForInputs())
        .orElse(queued())
        .orElse(running())
        .orElse(retryWait())
        .orElse(anyJob())
        .orElse(anyState())
        .build();
  }

  private CommandHandlerWithReplyBuilderByState<Command, Event, Blank, State> blank() {
    return newCommandHandlerWithReplyBuilder()
        .forStateType(Blank.class)
        .onCommand(Submit.class, this::submit)
        .onCommand(Get.class, (state, cmd) -> Effect().reply(cmd.replyTo(), new JobLookup(null)))
        .onCommand(Cancel.class, (state, cmd) -> Effect().reply(cmd.replyTo(), StatusReply.success(new JobLookup(null))));
  }

  private CommandHandlerWithReplyBuilderByState<Command, Event, WaitingForInputs, State> waitingForInputs() {
    return newCommandHandlerWithReplyBuilder()
        .forStateType(WaitingForInputs.class)
        .onCommand(InputsChecked.class, this::inputsChecked)
        .onCommand(Timer.class, (state, timer) -> timer == Timer.CHECK_INPUTS ? checkInputs(state) : ignore(state, timer));
  }

  private CommandHandlerWithReplyBuilderByState<Command, Event, Queued, State> queued() {
    return newCommandHandlerWithReplyBuilder()
        .forStateType(Queued.class)
        .onCommand(Granted.class, this::granted)
        .onCommand(Timer.class, (state, timer) -> timer == Timer.ACQUIRE_AGAIN ? askForSlot(state) : ignore(state, timer));
  }

  private CommandHandlerWithReplyBuilderByState<Command, Event, Running, State> running() {
    return newCommandHandlerWithReplyBuilder()
        .forStateType(Running.class)
        .onCommand(AttemptFinished.class, this::attemptFinished)
        .onCommand(OutputChecked.class, this::outputChecked)
        .onCommand(Granted.class, (state, cmd) -> {
          if (!cmd.grant().leaseId().equals(state.leaseId())) {
            returnLease(cmd.grant());
          }
          return Effect().noReply(); // the same lease again answers a repeated request; we hold it already
        })
        .onCommand(Timer.class, (state, timer) -> timer == Timer.RENEW_LEASE ? renew(state) : ignore(state, timer));
  }

  private CommandHandlerWithReplyBuilderByState<Command, Event, RetryWait, State> retryWait() {
    return newCommandHandlerWithReplyBuilder()
        .forStateType(RetryWait.class)
        .onCommand(Timer.class, (state, timer) -> timer == Timer.RETRY_DUE ? requeue(state) : ignore(state, timer));
  }

  private CommandHandlerWithReplyBuilderByState<Command, Event, Job, State> anyJob() {
    return newCommandHandlerWithReplyBuilder()
        .forStateType(Job.class)
        .onCommand(Submit.class, (state, cmd) -> Effect().reply(cmd.replyTo(),
            StatusReply.success(new Submitted(view(state), true, state.core().spec().equals(cmd.spec())))))
        .onCommand(Get.class, (state, cmd) -> Effect().reply(cmd.replyTo(), new JobLookup(view(state))))
        .onCommand(Cancel.class, this::cancel)
        .onCommand(Granted.class, (state, cmd) -> {
          returnLease(cmd.grant()); // a grant that arrives after the job moved on must not hold a slot
          return Effect().noReply();
        });
  }

  private CommandHandlerWithReplyBuilderByState<Command, Event, State, State> anyState() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Timer.class, this::ignore)
        .onCommand(InputsChecked.class, (state, cmd) -> Effect().noReply())
        .onCommand(AttemptFinished.class, (state, cmd) -> {
          log().warn("Job {}: result of attempt {} arrived in state {}; dropped", jobId, cmd.attempt(), state.getClass().getSimpleName());
          return Effect().noReply();
        })
        .onCommand(OutputChecked.class, (state, cmd) -> Effect().noReply());
  }

  // ---- Cancellation

  private ReplyEffect<Event, State> cancel(Job state, Cancel cmd) {
    if (state instanceof Cancelled) {
      return Effect().reply(cmd.replyTo(), StatusReply.success(new JobLookup(view(state))));
    }
    if (state instanceof Succeeded || state instanceof Failed) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("job " + jobId + " is " + state.status()
          + "; only waiting, queued, retrying or running jobs can be cancelled"));
    }
    String reason = cmd.reason() == null || cmd.reason().isBlank() ? "cancelled" : cmd.reason();
    return Effect()
        .persist(new JobCancelled(reason, clock.instant()))
        .thenRun(s -> {
          cancelled = true;
          timers.cancel(Timer.CHECK_INPUTS);
          timers.cancel(Timer.ACQUIRE_AGAIN);
          timers.cancel(Timer.RETRY_DUE);
          if (state instanceof Running running) {
            releaseLease(running);
          } else if (state instanceof Queued queued) {
            // Takes the job out of the endpoint's queue; a grant already on its way is returned on arrival.
            deps.endpoints().apply(queued.core().spec().endpoint()).tell(new EndpointLifecycle.Release(jobId, null));
          }
          log().info("Job {} cancelled while {} ({})", jobId, state.status(), reason);
          timers.startSingleTimer(Timer.PASSIVATE, Timer.PASSIVATE, settings.passivateAfter());
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new JobLookup(view((Job) s))));
  }

  // ---- Submission and inputs

  private ReplyEffect<Event, State> submit(Blank state, Submit cmd) {
    Instant now = clock.instant();
    return Effect()
        .persist(new JobSubmitted(jobId, cmd.spec(), now.plus(settings.inputsTimeout()), now))
        .thenRun(s -> {
          withMdc(cmd.spec().endpoint(), () -> log().info("Job {} submitted for endpoint {} ({})", jobId, cmd.spec().endpoint(), cmd.spec().source()));
          waitForInputs(cmd.spec());
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new Submitted(view((Job) s), false, true)));
  }

  private void waitForInputs(JobSpec spec) {
    timers.startTimerWithFixedDelay(Timer.CHECK_INPUTS, Timer.CHECK_INPUTS, settings.inputsCheckInterval());
    lookForInputs(spec);
  }

  private ReplyEffect<Event, State> checkInputs(WaitingForInputs state) {
    lookForInputs(state.core().spec());
    return Effect().noReply();
  }

  private void lookForInputs(JobSpec spec) {
    if (checkingInputs) {
      return; // the last look has not answered yet
    }
    checkingInputs = true;
    ctx.pipeToSelf(deps.step().missingInputs(spec), (missing, failure) -> failure == null
        ? new InputsChecked(missing, null)
        : new InputsChecked(List.of(), String.valueOf(InferenceStep.unwrap(failure))));
  }

  private ReplyEffect<Event, State> inputsChecked(WaitingForInputs state, InputsChecked cmd) {
    checkingInputs = false;
    Instant now = clock.instant();
    if (cmd.failure() == null && cmd.missing().isEmpty()) {
      timers.cancel(Timer.CHECK_INPUTS);
      return Effect()
          .persist(new JobQueued(now))
          .thenRun(s -> acquire(state.core().spec().endpoint()))
          .thenNoReply();
    }
    if (!now.isBefore(state.deadline())) {
      timers.cancel(Timer.CHECK_INPUTS);
      String what = cmd.failure() != null
          ? "the inputs could not be checked: " + cmd.failure()
          : describeMissing(state.core().spec(), cmd.missing()) + " did not arrive within " + settings.inputsTimeout().toSeconds() + " s";
      return fail(state, what, now);
    }
    if (cmd.failure() != null) {
      log().warn("Job {}: checking inputs failed, will look again: {}", jobId, cmd.failure());
      return Effect().noReply();
    }
    if (!cmd.missing().equals(state.missing())) {
      return Effect()
          .persist(new InputsMissing(cmd.missing(), now))
          .thenRun(s -> log().info("Job {} waits for {}", jobId, describeMissing(state.core().spec(), cmd.missing())))
          .thenNoReply();
    }
    return Effect().noReply(); // still waiting for the same inputs; the timer looks again
  }

  private static String describeMissing(JobSpec spec, List<String> names) {
    return String.join(", ", names.stream().map(n -> n + " " + spec.inputs().get(n)).toList());
  }

  // ---- Slots

  private void acquire(String endpoint) {
    timers.startTimerWithFixedDelay(Timer.ACQUIRE_AGAIN, Timer.ACQUIRE_AGAIN, settings.acquireInterval());
    deps.endpoints().apply(endpoint).tell(new EndpointLifecycle.Acquire(jobId, grantAdapter));
  }

  private ReplyEffect<Event, State> askForSlot(Queued state) {
    deps.endpoints().apply(state.core().spec().endpoint()).tell(new EndpointLifecycle.Acquire(jobId, grantAdapter));
    return Effect().noReply();
  }

  private void returnLease(EndpointLifecycle.Grant grant) {
    deps.endpoints().apply(grant.endpoint()).tell(new EndpointLifecycle.Release(jobId, grant.leaseId()));
  }

  private ReplyEffect<Event, State> granted(Queued state, Granted cmd) {
    int attempt = state.core().attempts() + 1;
    EndpointLifecycle.Grant grant = cmd.grant();
    return Effect()
        .persist(new AttemptStarted(attempt, grant.leaseId(), clock.instant()))
        .thenRun(s -> {
          timers.cancel(Timer.ACQUIRE_AGAIN);
          Duration renewEvery = grant.ttl().dividedBy(3);
          timers.startTimerWithFixedDelay(Timer.RENEW_LEASE, Timer.RENEW_LEASE, renewEvery);
          withMdc(grant.endpoint(), () -> log().info("Job {} runs attempt {} on endpoint {}", jobId, attempt, grant.endpoint()));
          ctx.pipeToSelf(
              deps.step().run(jobId, attempt, state.core().spec(), () -> !cancelled)
                  .toCompletableFuture()
                  .orTimeout(settings.attemptTimeout().toMillis(), TimeUnit.MILLISECONDS),
              (output, failure) -> {
                if (failure == null) {
                  return AttemptFinished.succeeded(attempt, output);
                }
                Throwable cause = InferenceStep.unwrap(failure);
                return cause instanceof InferenceException e
                    ? new AttemptFinished(attempt, null, e.kind(), e.getMessage())
                    : new AttemptFinished(attempt, null, InferenceException.Kind.TRANSIENT,
                        cause instanceof java.util.concurrent.TimeoutException
                            ? "the attempt took longer than " + settings.attemptTimeout().toSeconds() + " s (attempt-timeout)"
                            : String.valueOf(cause));
              });
        })
        .thenNoReply();
  }

  private ReplyEffect<Event, State> renew(Running state) {
    deps.endpoints().apply(state.core().spec().endpoint()).tell(new EndpointLifecycle.Renew(jobId, state.leaseId()));
    return Effect().noReply();
  }

  // ---- Attempts

  private ReplyEffect<Event, State> attemptFinished(Running state, AttemptFinished cmd) {
    if (cmd.attempt() != state.attempt()) {
      return Effect().noReply(); // a late answer of an attempt that was already given up
    }
    Instant now = clock.instant();
    if (cmd.failureKind() == null) {
      return Effect()
          .persist(new JobSucceeded(cmd.attempt(), cmd.outputETag(), now))
          .thenRun(s -> finished(state, "succeeded; output " + state.core().spec().output()))
          .thenNoReply();
    }
    if (cmd.failureKind() == InferenceException.Kind.PERMANENT) {
      return fail(state, "attempt " + cmd.attempt() + " failed permanently: " + cmd.failure(), now);
    }
    return retryOrFail(state, cmd.attempt(), cmd.failure(), now);
  }

  private ReplyEffect<Event, State> outputChecked(Running state, OutputChecked cmd) {
    Instant now = clock.instant();
    if (cmd.written()) {
      return Effect()
          .persist(new JobSucceeded(cmd.attempt(), cmd.outputETag(), now))
          .thenRun(s -> finished(state, "succeeded; its output was written before the interruption"))
          .thenNoReply();
    }
    String why = cmd.failure() == null
        ? "attempt " + cmd.attempt() + " was interrupted (its node stopped before the output was written)"
        : "attempt " + cmd.attempt() + " was interrupted and its output could not be checked: " + cmd.failure();
    return retryOrFail(state, cmd.attempt(), why, now);
  }

  private ReplyEffect<Event, State> retryOrFail(Running state, int attempt, String error, Instant now) {
    if (attempt >= settings.maxAttempts()) {
      return fail(state, "gave up after " + attempt + " attempts; last error: " + error, now);
    }
    Instant retryAt = now.plus(backoff(attempt));
    return Effect()
        .persist(new AttemptFailed(attempt, error, retryAt, now))
        .thenRun(s -> {
          releaseLease(state);
          log().warn("Job {}: attempt {} failed, retrying at {}: {}", jobId, attempt, retryAt, error);
          scheduleRetry(retryAt);
        })
        .thenNoReply();
  }

  /** Exponential with equal jitter: half the delay is fixed, half random, so a burst of failures spreads out. */
  private Duration backoff(int attempt) {
    long max = settings.backoffMax().toMillis();
    long exp = settings.backoffMin().toMillis() << Math.min(attempt - 1, 30);
    long base = Math.min(max, exp < 0 ? max : exp);
    return Duration.ofMillis(base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1));
  }

  private void scheduleRetry(Instant retryAt) {
    Duration delay = Duration.between(clock.instant(), retryAt);
    timers.startSingleTimer(Timer.RETRY_DUE, Timer.RETRY_DUE, delay.isNegative() ? Duration.ZERO : delay);
  }

  private ReplyEffect<Event, State> requeue(RetryWait state) {
    return Effect()
        .persist(new JobQueued(clock.instant()))
        .thenRun(s -> acquire(state.core().spec().endpoint()))
        .thenNoReply();
  }

  private ReplyEffect<Event, State> fail(Job before, String error, Instant now) {
    return Effect()
        .persist(new JobFailed(error, now))
        .thenRun(s -> {
          timers.cancel(Timer.CHECK_INPUTS);
          timers.cancel(Timer.ACQUIRE_AGAIN);
          if (before instanceof Running running) {
            releaseLease(running);
          }
          log().warn("Job {} failed: {}", jobId, error);
          timers.startSingleTimer(Timer.PASSIVATE, Timer.PASSIVATE, settings.passivateAfter());
        })
        .thenNoReply();
  }

  private void finished(Running state, String how) {
    releaseLease(state);
    log().info("Job {} {}", jobId, how);
    timers.startSingleTimer(Timer.PASSIVATE, Timer.PASSIVATE, settings.passivateAfter());
  }

  private void releaseLease(Running state) {
    timers.cancel(Timer.RENEW_LEASE);
    deps.endpoints().apply(state.core().spec().endpoint()).tell(new EndpointLifecycle.Release(jobId, state.leaseId()));
  }

  private ReplyEffect<Event, State> ignore(State state, Timer timer) {
    if (timer == Timer.PASSIVATE) {
      if (shard != null) {
        shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
        return Effect().noReply();
      }
      return Effect().stop().thenNoReply();
    }
    return Effect().noReply(); // a timer of a stage the job has left
  }

  // ---- Views and helpers

  static JobView view(Job job) {
    JobCore core = job.core();
    Map<String, String> inputs = new LinkedHashMap<>();
    core.spec().inputs().forEach((name, ref) -> inputs.put(name, ref.toString()));
    return new JobView(core.jobId(), job.status(), core.spec().endpoint(), core.spec().owner(), core.attempts(),
        core.createdAt(), core.updatedAt(), inputs, core.spec().output().toString(), job.error());
  }

  private org.slf4j.Logger log() {
    return ctx.getLog();
  }

  private void withMdc(String endpoint, Runnable logging) {
    MDC.put("jobId", jobId);
    MDC.put("endpoint", endpoint);
    try {
      logging.run();
    } finally {
      MDC.remove("jobId");
      MDC.remove("endpoint");
    }
  }

  // ---- Event handler

  @Override
  public EventHandler<State, Event> eventHandler() {
    var builder = newEventHandlerBuilder();
    builder.forStateType(Blank.class)
        .onEvent(JobSubmitted.class, (s, e) -> new WaitingForInputs(
            new JobCore(e.jobId(), e.spec(), 0, e.at(), e.at()), List.copyOf(e.spec().inputs().keySet()), e.inputsDeadline()));
    builder.forStateType(WaitingForInputs.class)
        .onEvent(InputsMissing.class, (s, e) -> new WaitingForInputs(s.core().touched(e.at()), List.copyOf(e.missing()), s.deadline()))
        .onEvent(JobQueued.class, (s, e) -> new Queued(s.core().touched(e.at())));
    builder.forStateType(Queued.class)
        .onEvent(AttemptStarted.class, (s, e) -> new Running(s.core().attempted(e.attempt(), e.at()), e.attempt(), e.leaseId()));
    builder.forStateType(Running.class)
        .onEvent(JobSucceeded.class, (s, e) -> new Succeeded(s.core().touched(e.at()), e.outputETag()))
        .onEvent(AttemptFailed.class, (s, e) -> new RetryWait(s.core().touched(e.at()), e.retryAt(), e.error()));
    builder.forStateType(RetryWait.class)
        .onEvent(JobQueued.class, (s, e) -> new Queued(s.core().touched(e.at())));
    builder.forStateType(Job.class)
        .onEvent(JobFailed.class, (s, e) -> new Failed(s.core().touched(e.at()), e.error()))
        .onEvent(JobCancelled.class, (s, e) -> new Cancelled(s.core().touched(e.at()), e.reason()));
    return builder.build();
  }
}
