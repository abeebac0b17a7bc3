package warmgate.request;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.Done;
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
import org.apache.pekko.persistence.typed.SnapshotSelectionCriteria;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.Recovery;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.MDC;
import warmgate.Backoff;
import warmgate.Failures;
import warmgate.config.RequestSettings;
import warmgate.config.WebhookSettings;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.endpoint.InferenceException;
import warmgate.job.JobSpec;
import warmgate.job.ObjectRef;
import warmgate.logging.EntityMdc;
import warmgate.request.Request.*;
import warmgate.request.RequestCommand.*;
import warmgate.request.RequestState.*;

/**
 * One job, from submission to its end; sharded by job id and event-sourced, so it never forgets where it is. Its
 * commands are {@link RequestCommand}, its events (the journal's contract) {@link Request}, its stages and their
 * fold {@link RequestState}; the side duties' bookkeeping is in {@link ErrorReportDuty}, {@link CallbackDuty} and
 * {@link Duty}, its talk with the endpoint in {@link Slots}.
 *
 * <p>A submitted job first waits until its inputs exist (an image may arrive before its mask), then asks its
 * endpoint for a slot, runs the inference step under that lease, and ends succeeded or failed. Transient
 * failures are retried with exponential backoff and jitter up to {@code max-attempts}. After a crash it
 * resumes: a queued job asks for a slot again, and a job that was running looks for the output it may have
 * written before it died: found, it succeeded; not found, the attempt counts as interrupted and is retried.
 *
 * <p>A job that asked for review holds its result aside in {@code AWAITING_REVIEW} until it is approved
 * (published to the output) or rejected. A failed job writes {@code {base}_error.json} beside its output and
 * can be redriven; a report that can never be written (its reference breaks the key rules, or the store refuses
 * it for good) is given up ({@link ErrorReportAbandoned}) rather than retried forever. A job whose inputs can never
 * exist, or whose result can never be written, fails as soon as it would look for its inputs. With a {@code callbackUrl}, every end (and the wait for review) is reported by a signed
 * webhook, retried with backoff apart from the job's own progress. Those duties are persisted, so a job
 * stays in memory until they are done.
 *
 * <p>A job queued for longer than {@code park-after} parks: once its endpoint holds its place by id
 * ({@link EndpointLifecycle.Park}), its actor stops, and the endpoint's grant, sent through sharding, starts it
 * again as QUEUED to take the slot.
 *
 * <p>Sharding does not remember jobs. A job with work left ({@link Job#hasWork}) is started again by the read
 * side's waker after a restart or the loss of a node (a queued one is enlisted with its endpoint instead), and
 * by itself when its shard moves (see {@link Stop}).
 */
public final class RequestEntity extends EventSourcedBehaviorWithEnforcedReplies<RequestCommand, Request.Event, RequestState> {

  /** Starts an error reply that means "try again later" (503), not "not in this state" (409). */
  public static final String UNAVAILABLE = "unavailable: ";

  public static final EntityTypeKey<RequestCommand> ENTITY_KEY = EntityTypeKey.create(RequestCommand.class, "Request");

  /** Four tags spread the read side's load (one projection each); a job's tag never changes. */
  public static final List<String> TAGS = List.of("job-0", "job-1", "job-2", "job-3");

  /**
   * What a job needs from the rest of the system.
   *
   * @param metrics where transitions, waits and journal writes are reported
   */
  public record Deps(
      InferenceStep step,
      Function<String, RecipientRef<EndpointLifecycle.Command>> endpoints,
      RequestSettings settings,
      Webhooks webhooks,
      WebhookSettings webhookSettings,
      Clock clock,
      JobMetrics metrics) {

    /** Reporting no metrics. */
    public Deps(InferenceStep step, Function<String, RecipientRef<EndpointLifecycle.Command>> endpoints, RequestSettings settings,
        Webhooks webhooks, WebhookSettings webhookSettings, Clock clock) {
      this(step, endpoints, settings, webhooks, webhookSettings, clock, JobMetrics.NONE);
    }
  }

  /**
   * Registers the entity with sharding. Not remembered: with many jobs waiting, sharding's list of remembered
   * entities grows into a journal of its own that every restart replays at once. Jobs with work left are
   * woken from the job index instead (warmgate.index.JobWaker), and move with their shard by themselves
   * ({@link Stop}). Never passivated for being idle: a queued job may wait quietly for many minutes, and only
   * the job knows when it is at rest, or when its endpoint holds its place (parking).
   */
  public static void init(ActorSystem<?> system, Deps deps) {
    ClusterSharding.get(system)
        .init(
            Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), deps, ctx.getShard()))
                .withStopMessage(Stop.INSTANCE)
                .withSettings(ClusterShardingSettings.create(system).withNoPassivationStrategy()));
  }

  /** @param shard where to ask for passivation; null outside sharding (tests), where the actor just stops */
  public static Behavior<RequestCommand> create(String jobId, Deps deps, ActorRef<ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.setLoggerName(RequestEntity.class);
      RequestEntity request = new RequestEntity(jobId, deps, shard, ctx, timers);
      return EntityMdc.of(Map.of("jobId", jobId), request::mdc, request);
    }));
  }

  /** The one tag of every event of job {@code jobId}. */
  public static String tagFor(String jobId) {
    return TAGS.get(Math.floorMod(jobId.hashCode(), TAGS.size()));
  }

  private final String jobId;
  private final Deps deps;
  private final RequestSettings settings;
  private final Clock clock;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final ActorContext<RequestCommand> ctx;
  private final TimerScheduler<RequestCommand> timers;
  private final Slots slots;
  private final ErrorReportDuty report;
  private final CallbackDuty callback;
  private final Duty publishing = new Duty();
  /** The job's endpoint, for the MDC of its log lines; null until the job is submitted or recovered. */
  private String endpoint;
  private boolean checkingInputs;
  // Read by the attempt's own stages on other threads, so it can drop the result of a cancelled job before
  // writing it; volatile because it crosses threads, and never persisted (the event is the record).
  private volatile boolean cancelled;

  private RequestEntity(String jobId, Deps deps, ActorRef<ClusterSharding.ShardCommand> shard, ActorContext<RequestCommand> ctx,
      TimerScheduler<RequestCommand> timers) {
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
    this.slots = new Slots(jobId, deps.endpoints(), ctx.messageAdapter(EndpointLifecycle.SlotReply.class, RequestCommand::slotReply));
    this.report = new ErrorReportDuty(settings.backoffMin(), settings.backoffMax(), () -> ThreadLocalRandom.current().nextDouble());
    this.callback = new CallbackDuty(deps.webhookSettings(), () -> ThreadLocalRandom.current().nextDouble());
  }

  @Override
  public RequestState emptyState() {
    return new Blank();
  }

  /**
   * A job never saves snapshots (its few events replay in one read), so its start does not ask the snapshot store
   * for one: that would be a database query on every start, for every new job and every job woken after a restart.
   */
  @Override
  public Recovery recovery() {
    return Recovery.withSnapshotSelectionCriteria(SnapshotSelectionCriteria.none());
  }

  @Override
  public Set<String> tagsFor(Request.Event event) {
    return Set.of(tagFor(jobId));
  }

  @Override
  public EventHandler<RequestState, Request.Event> eventHandler() {
    return RequestState.Fold.HANDLER;
  }

  @Override
  public SignalHandler<RequestState> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), this::resume).build();
  }

  /** Picks up where the job was when its actor last stopped: after passivation, a rebalance or a crash. */
  private void resume(RequestState state) {
    if (state instanceof Job job) {
      endpoint = job.core().spec().endpoint();
      MDC.put("endpoint", endpoint); // the MDC of this message was set before the recovery told us the endpoint
      if (job.hasWork()) {
        log().info("Job {} resumes {}", jobId, job.status());
      }
    }
    if (state instanceof WaitingForInputs waiting) {
      waitForInputs(waiting.core().spec());
    } else if (state instanceof Queued queued) {
      acquire(queued.core().spec().endpoint());
    } else if (state instanceof Running running) {
      log().info("Job {} was running attempt {} when its actor stopped; looking for its output", jobId, running.attempt());
      slots.release(running.core().spec().endpoint(), running.leaseId());
      ctx.pipeToSelf(deps.step().writtenBy(jobId, target(running.core().spec())),
          (found, failure) -> OutputChecked.of(running.attempt(), found, failure));
    } else if (state instanceof RetryWait retry) {
      scheduleRetry(retry.retryAt());
    } else {
      // Blank (someone asked about an unknown id), awaiting review or finished: leave memory once duties are done.
      settle(state);
    }
  }

  // ---- The state machine: what each phase answers

  /**
   * Composed by state as the house style's {@code queued().orElse(running()).orElse(anyState())} would be (the job's
   * phase first, then what every job answers, then what any state answers), but as plain methods: Pekko's builder
   * makes its case objects for every entity it starts, about 3.7 KiB per entity (docs/benchmarks.md, section 5),
   * and a node holds one entity per queued job.
   */
  @Override
  public CommandHandlerWithReply<RequestCommand, Request.Event, RequestState> commandHandler() {
    return this::handle;
  }

  private ReplyEffect<Request.Event, RequestState> handle(RequestState state, RequestCommand command) {
    ReplyEffect<Request.Event, RequestState> effect = inPhase(state, command);
    if (effect == null && state instanceof Job job) {
      effect = inAnyJob(job, command);
    }
    if (effect == null) {
      effect = inAnyState(state, command);
    }
    if (effect == null) {
      throw new IllegalStateException("job " + jobId + ": no handler for " + command.getClass().getSimpleName()
          + " in " + state.getClass().getSimpleName());
    }
    return effect;
  }

  /** What only the job's current phase answers; null: the phase leaves the command to {@link #inAnyJob}. */
  private ReplyEffect<Request.Event, RequestState> inPhase(RequestState state, RequestCommand command) {
    if (state instanceof Blank blank) {
      return unknownJob(blank, command);
    } else if (state instanceof WaitingForInputs waiting) {
      if (command instanceof InputsChecked checked) {
        return inputsChecked(waiting, checked);
      } else if (command instanceof CannotRun cannot) {
        checkingInputs = false;
        return fail(waiting, cannot.reason(), clock.instant());
      } else if (command instanceof Timer timer) {
        return timer == Timer.CHECK_INPUTS ? checkInputs(waiting) : ignore(waiting, timer);
      }
    } else if (state instanceof Queued queued) {
      if (command instanceof Granted granted) {
        return granted(queued, granted);
      } else if (command instanceof EndpointRefused refused) {
        return endpointRefused(queued, refused);
      } else if (command instanceof ParkAccepted) {
        return parkAccepted(queued);
      } else if (command instanceof Timer timer) {
        return timer == Timer.ACQUIRE_AGAIN ? askForSlot(queued) : timer == Timer.PARK ? park(queued) : ignore(queued, timer);
      }
    } else if (state instanceof Running running) {
      if (command instanceof AttemptFinished finished) {
        return attemptFinished(running, finished);
      } else if (command instanceof OutputChecked checked) {
        return outputChecked(running, checked);
      } else if (command instanceof Granted granted) {
        if (!granted.grant().leaseId().equals(running.leaseId())) {
          slots.giveBack(granted.grant());
        }
        return Effect().noReply(); // the same lease again answers a repeated request; we hold it already
      } else if (command instanceof Timer timer) {
        return timer == Timer.RENEW_LEASE ? renew(running) : ignore(running, timer);
      }
    } else if (state instanceof RetryWait retry) {
      if (command instanceof Timer timer) {
        return timer == Timer.RETRY_DUE ? requeue(retry) : ignore(retry, timer);
      }
    } else if (state instanceof AwaitingReview review) {
      if (command instanceof Approve approve) {
        return approve(review, approve);
      } else if (command instanceof Published published) {
        return published(review, published);
      } else if (command instanceof Reject reject) {
        return reject(review, reject);
      }
    } else if (state instanceof Failed failed) {
      if (command instanceof Retry retry) {
        return retry(failed, retry);
      } else if (command instanceof ErrorReportWritten written) {
        return errorReportWritten(failed, written);
      } else if (command instanceof ErrorReportRefused refused) {
        return errorReportRefused(failed, refused);
      } else if (command instanceof Timer timer) {
        return switch (timer) {
          case REPORT_ERROR -> reportError(failed);
          case DELIVER_CALLBACK -> deliverCallback(failed);
          default -> ignore(failed, timer);
        };
      }
    }
    return null;
  }

  /** No job has this id: lookups find nothing; null for what {@link #inAnyState} answers. */
  private ReplyEffect<Request.Event, RequestState> unknownJob(Blank state, RequestCommand command) {
    if (command instanceof Submit submit) {
      return submit(state, submit);
    } else if (command instanceof Get get) {
      return Effect().reply(get.replyTo(), new JobLookup(null));
    } else if (command instanceof Cancel cancel) {
      return Effect().reply(cancel.replyTo(), StatusReply.success(new JobLookup(null)));
    } else if (command instanceof Retry retry) {
      return Effect().reply(retry.replyTo(), StatusReply.success(new JobLookup(null)));
    } else if (command instanceof Approve approve) {
      return Effect().reply(approve.replyTo(), StatusReply.success(new JobLookup(null)));
    } else if (command instanceof Reject reject) {
      return Effect().reply(reject.replyTo(), StatusReply.success(new JobLookup(null)));
    }
    return null;
  }

  /** What every job answers whatever its phase; null for what {@link #inAnyState} answers. */
  private ReplyEffect<Request.Event, RequestState> inAnyJob(Job state, RequestCommand command) {
    if (command instanceof Submit submit) {
      return Effect().reply(submit.replyTo(),
          StatusReply.success(new Submitted(state.view(), true, state.core().spec().equals(submit.spec()))));
    } else if (command instanceof Get get) {
      return Effect().reply(get.replyTo(), new JobLookup(state.view()));
    } else if (command instanceof Cancel cancel) {
      return cancel(state, cancel);
    } else if (command instanceof Retry retry) {
      return Effect().reply(retry.replyTo(), StatusReply.error(
          "job " + jobId + " is " + state.status() + "; only failed jobs can be retried"));
    } else if (command instanceof Approve approve) {
      return Effect().reply(approve.replyTo(), notAwaitingReview(state));
    } else if (command instanceof Reject reject) {
      return Effect().reply(reject.replyTo(), notAwaitingReview(state));
    } else if (command instanceof CallbackAnswered answered) {
      return callbackAnswered(state, answered);
    } else if (command instanceof Granted granted) {
      slots.giveBack(granted.grant()); // a grant that arrives after the job moved on must not hold a slot
      return Effect().noReply();
    } else if (command instanceof Timer timer) {
      return timer == Timer.DELIVER_CALLBACK ? deliverCallback(state) : ignore(state, timer);
    }
    return null;
  }

  /** Late answers to work the job has moved past, and sharding's messages; null if none of these. */
  private ReplyEffect<Request.Event, RequestState> inAnyState(RequestState state, RequestCommand command) {
    if (command instanceof Timer timer) {
      return ignore(state, timer);
    } else if (command instanceof Wake wake) {
      // Recovery has already resumed the job: nothing else to do.
      return wake.replyTo() == null ? Effect().noReply() : Effect().reply(wake.replyTo(), Done.getInstance());
    } else if (command instanceof Stop stop) {
      return stop(state, stop);
    } else if (command instanceof AttemptFinished finished) {
      log().warn("Job {}: result of attempt {} arrived in state {}; dropped", jobId, finished.attempt(), state.getClass().getSimpleName());
      return Effect().noReply();
    } else if (command instanceof Published published) {
      publishing.answered();
      return Effect().reply(published.replyTo(), StatusReply.error("job " + jobId + " is no longer awaiting review"));
    } else if (command instanceof InputsChecked || command instanceof OutputChecked || command instanceof EndpointRefused
        || command instanceof ErrorReportWritten || command instanceof CallbackAnswered || command instanceof ParkAccepted
        || command instanceof CannotRun || command instanceof ErrorReportRefused) {
      return Effect().noReply();
    }
    return null;
  }

  // ---- Submission and inputs

  private ReplyEffect<Request.Event, RequestState> submit(Blank state, Submit cmd) {
    Instant now = clock.instant();
    endpoint = cmd.spec().endpoint();
    return persist(state, new JobSubmitted(jobId, cmd.spec(), now.plus(settings.inputsTimeout()), now))
        .thenRun(s -> {
          // Started blank, the actor armed its passivation (resume); a job with work must not leave memory, or
          // every new job would stop passivate-after later and be woken and recovered again at once.
          timers.cancel(Timer.PASSIVATE);
          log().info("Job {} submitted for endpoint {} ({})", jobId, cmd.spec().endpoint(), cmd.spec().source());
          waitForInputs(cmd.spec());
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new Submitted(((Job) s).view(), false, true)));
  }

  private void waitForInputs(JobSpec spec) {
    timers.startTimerWithFixedDelay(Timer.CHECK_INPUTS, Timer.CHECK_INPUTS, settings.inputsCheckInterval());
    lookForInputs(spec);
  }

  private ReplyEffect<Request.Event, RequestState> checkInputs(WaitingForInputs state) {
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

  private ReplyEffect<Request.Event, RequestState> inputsChecked(WaitingForInputs state, InputsChecked cmd) {
    checkingInputs = false;
    Instant now = clock.instant();
    if (cmd.failure() == null && cmd.missing().isEmpty()) {
      timers.cancel(Timer.CHECK_INPUTS);
      return persist(state, new JobQueued(now))
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
      return persist(state, new InputsMissing(cmd.missing(), now))
          .thenRun(s -> log().info("Job {} waits for {}", jobId, describeMissing(state.core().spec(), cmd.missing())))
          .thenNoReply();
    }
    return Effect().noReply(); // still waiting for the same inputs; the timer looks again
  }

  private static String describeMissing(JobSpec spec, List<String> names) {
    return String.join(", ", names.stream().map(n -> n + " " + spec.inputs().get(n)).toList());
  }

  // ---- Queued: slots, parking, a FAILED endpoint

  private void acquire(String endpoint) {
    timers.startTimerWithFixedDelay(Timer.ACQUIRE_AGAIN, Timer.ACQUIRE_AGAIN, settings.acquireInterval());
    if (!settings.parkAfter().isZero()) {
      timers.startTimerWithFixedDelay(Timer.PARK, Timer.PARK, settings.parkAfter());
    }
    slots.ask(endpoint);
  }

  private ReplyEffect<Request.Event, RequestState> askForSlot(Queued state) {
    slots.ask(state.core().spec().endpoint());
    return Effect().noReply();
  }

  /**
   * Waited {@code park-after} in memory: asks the endpoint to keep the job's place by id. Until it answers, the job
   * keeps asking for a slot as before; the endpoint does not answer a job it has no place for (a full queue).
   */
  private ReplyEffect<Request.Event, RequestState> park(Queued state) {
    slots.park(state.core().spec().endpoint());
    return Effect().noReply();
  }

  /**
   * Leaves memory with its place kept, unless it asked for a slot since ({@link Slots#parkAccepted}); the next park
   * tries again. Nothing is persisted: the journal already says QUEUED, which is what a woken job resumes from.
   */
  private ReplyEffect<Request.Event, RequestState> parkAccepted(Queued state) {
    if (!slots.parkAccepted()) {
      return Effect().noReply();
    }
    timers.cancel(Timer.ACQUIRE_AGAIN);
    timers.cancel(Timer.PARK);
    log().debug("Job {} parks in the queue of endpoint {}", jobId, state.core().spec().endpoint());
    return passivate();
  }

  private ReplyEffect<Request.Event, RequestState> endpointRefused(Queued state, EndpointRefused cmd) {
    Duration wait = cmd.refusal().retryAfter();
    // Spread the jobs' next asks, so a recovered endpoint is not hit by all of them in the same second.
    Instant retryAt = clock.instant().plus(wait.plusMillis(ThreadLocalRandom.current().nextLong(wait.toMillis() / 2 + 1)));
    return persist(state, new EndpointUnavailable(cmd.refusal().reason(), retryAt, clock.instant()))
        .thenRun(s -> {
          timers.cancel(Timer.ACQUIRE_AGAIN);
          timers.cancel(Timer.PARK);
          log().warn("Job {} waits until {}: {}", jobId, retryAt, cmd.refusal().reason());
          scheduleRetry(retryAt);
        })
        .thenNoReply();
  }

  private ReplyEffect<Request.Event, RequestState> granted(Queued state, Granted cmd) {
    int attempt = state.core().attempts() + 1;
    EndpointLifecycle.Grant grant = cmd.grant();
    return persist(state, new AttemptStarted(attempt, grant.leaseId(), clock.instant()))
        .thenRun(s -> {
          timers.cancel(Timer.ACQUIRE_AGAIN);
          timers.cancel(Timer.PARK);
          timers.startTimerWithFixedDelay(Timer.RENEW_LEASE, Timer.RENEW_LEASE, grant.ttl().dividedBy(3));
          log().info("Job {} runs attempt {} on endpoint {}", jobId, attempt, grant.endpoint());
          ctx.pipeToSelf(
              deps.step().run(jobId, attempt, state.core().spec(), target(state.core().spec()), () -> !cancelled)
                  .toCompletableFuture()
                  .orTimeout(settings.attemptTimeout().toMillis(), TimeUnit.MILLISECONDS),
              (output, failure) -> AttemptFinished.of(attempt, output, failure, settings.attemptTimeout()));
        })
        .thenNoReply();
  }

  // ---- Running: attempts and their outcomes

  private ReplyEffect<Request.Event, RequestState> renew(Running state) {
    slots.renew(state.core().spec().endpoint(), state.leaseId());
    return Effect().noReply();
  }

  private ReplyEffect<Request.Event, RequestState> attemptFinished(Running state, AttemptFinished cmd) {
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
      return fail(state, "attempt " + cmd.attempt() + " failed permanently: " + cmd.failure(), now);
    }
    return retryOrFail(state, cmd.attempt(), cmd.failure(), now);
  }

  /** Only after a restart; the lease was returned then ({@link #resume}). */
  private ReplyEffect<Request.Event, RequestState> outputChecked(Running state, OutputChecked cmd) {
    Instant now = clock.instant();
    if (cmd.written()) {
      return succeeded(state, cmd.attempt(), cmd.outputETag(), now, "succeeded; its output was written before the interruption");
    }
    String why = cmd.failure() == null
        ? "attempt " + cmd.attempt() + " was interrupted (its node stopped before the output was written)"
        : "attempt " + cmd.attempt() + " was interrupted and its output could not be checked: " + cmd.failure();
    return retryOrFail(state, cmd.attempt(), why, now);
  }

  /** A result written: published at once, or held for review when the job asked for one. */
  private ReplyEffect<Request.Event, RequestState> succeeded(Running state, int attempt, String eTag, Instant now, String how) {
    JobSpec spec = state.core().spec();
    if (spec.requireReview()) {
      return persist(state, new ResultHeld(attempt, eTag, now))
          .thenRun(s -> {
            log().info("Job {} {}; the result waits for review at {}", jobId, how, heldOutput(spec));
            settle(s);
          })
          .thenNoReply();
    }
    return persist(state, new JobSucceeded(attempt, eTag, now))
        .thenRun(s -> {
          log().info("Job {} {}; output {}", jobId, how, spec.output());
          settle(s);
        })
        .thenNoReply();
  }

  private ReplyEffect<Request.Event, RequestState> retryOrFail(Running state, int attempt, String error, Instant now) {
    if (attempt - state.core().runStart() >= settings.maxAttempts()) {
      return fail(state, "gave up after " + (attempt - state.core().runStart()) + " attempts; last error: " + error, now);
    }
    // Exponential with equal jitter, so a burst of failures spreads out.
    Instant retryAt = now.plus(Backoff.delay(settings.backoffMin(), settings.backoffMax(), attempt, ThreadLocalRandom.current().nextDouble()));
    return persist(state, new AttemptFailed(attempt, error, retryAt, now))
        .thenRun(s -> {
          log().warn("Job {}: attempt {} failed, retrying at {}: {}", jobId, attempt, retryAt, error);
          scheduleRetry(retryAt);
        })
        .thenNoReply();
  }

  private void releaseLease(Running state) {
    timers.cancel(Timer.RENEW_LEASE);
    slots.release(state.core().spec().endpoint(), state.leaseId());
  }

  // ---- RetryWait

  private void scheduleRetry(Instant retryAt) {
    Duration delay = Duration.between(clock.instant(), retryAt);
    timers.startSingleTimer(Timer.RETRY_DUE, Timer.RETRY_DUE, delay.isNegative() ? Duration.ZERO : delay);
  }

  private ReplyEffect<Request.Event, RequestState> requeue(RetryWait state) {
    return persist(state, new JobQueued(clock.instant()))
        .thenRun(s -> acquire(state.core().spec().endpoint()))
        .thenNoReply();
  }

  // ---- AwaitingReview: approval publishes the held result

  private ReplyEffect<Request.Event, RequestState> approve(AwaitingReview state, Approve cmd) {
    if (!publishing.start()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("job " + jobId + " is being approved already"));
    }
    JobSpec spec = state.core().spec();
    ctx.pipeToSelf(deps.step().publish(jobId, state.attempt(), spec, heldOutput(spec)), (written, failure) -> failure == null
        ? new Published(cmd.reviewer(), written.eTag(), null, cmd.replyTo())
        : new Published(cmd.reviewer(), null, String.valueOf(Failures.unwrap(failure)), cmd.replyTo()));
    return Effect().noReply();
  }

  private ReplyEffect<Request.Event, RequestState> published(AwaitingReview state, Published cmd) {
    publishing.answered();
    if (cmd.failure() != null) {
      log().warn("Job {}: publishing the approved result failed: {}", jobId, cmd.failure());
      return Effect().reply(cmd.replyTo(), StatusReply.error(
          UNAVAILABLE + "the result could not be published (" + cmd.failure() + "); the job still awaits review, approve it again"));
    }
    return persist(state, new ResultApproved(cmd.reviewer(), cmd.outputETag(), clock.instant()))
        .thenRun(s -> {
          log().info("Job {} approved by {}; output {}", jobId, RequestState.reviewerName(cmd.reviewer()), state.core().spec().output());
          settle(s);
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new JobLookup(((Job) s).view())));
  }

  private ReplyEffect<Request.Event, RequestState> reject(AwaitingReview state, Reject cmd) {
    String reason = cmd.reason() == null || cmd.reason().isBlank() ? "no reason given" : cmd.reason();
    return persist(state, new ResultRejected(cmd.reviewer(), reason, clock.instant()))
        .thenRun(s -> {
          log().info("Job {} rejected by {}: {}", jobId, RequestState.reviewerName(cmd.reviewer()), reason);
          discardHeld(state.core().spec());
          settle(s);
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new JobLookup(((Job) s).view())));
  }

  private StatusReply<JobLookup> notAwaitingReview(Job state) {
    return StatusReply.error("job " + jobId + " is " + state.status() + "; only jobs awaiting review can be approved or rejected");
  }

  private void discardHeld(JobSpec spec) {
    ObjectRef held = heldOutput(spec);
    deps.step().discard(held).whenComplete((ok, failure) -> {
      if (failure != null) {
        log().warn("Job {}: the held result {} could not be removed: {}", jobId, held, Failures.unwrap(failure));
      }
    });
  }

  private ObjectRef heldOutput(JobSpec spec) {
    return RequestState.heldOutput(jobId, spec);
  }

  private ObjectRef target(JobSpec spec) {
    return spec.requireReview() ? heldOutput(spec) : spec.output();
  }

  // ---- Failed: redrives and the error report

  private ReplyEffect<Request.Event, RequestState> fail(Job before, String error, Instant now) {
    return persist(before, new JobFailed(error, now))
        .thenRun(s -> {
          timers.cancel(Timer.CHECK_INPUTS);
          timers.cancel(Timer.ACQUIRE_AGAIN);
          timers.cancel(Timer.PARK);
          log().warn("Job {} failed: {}", jobId, error);
          settle(s);
        })
        .thenNoReply();
  }

  private ReplyEffect<Request.Event, RequestState> retry(Failed state, Retry cmd) {
    Instant now = clock.instant();
    String reason = cmd.reason() == null || cmd.reason().isBlank() ? "retried" : cmd.reason();
    return persist(state, new JobRetried(reason, now.plus(settings.inputsTimeout()), now))
        .thenRun(s -> {
          timers.cancel(Timer.REPORT_ERROR);
          timers.cancel(Timer.PASSIVATE);
          cancelled = false;
          JobSpec spec = state.core().spec();
          deps.step().clearErrorReport(spec).whenComplete((ok, failure) -> {
            if (failure != null) {
              log().warn("Job {}: the old error report {} could not be removed: {}", jobId, spec.errorOutput(), Failures.unwrap(failure));
            }
          });
          log().info("Job {} redriven ({}); it was FAILED: {}", jobId, reason, state.error());
          waitForInputs(spec);
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new JobLookup(((Job) s).view())));
  }

  private ReplyEffect<Request.Event, RequestState> reportError(Failed state) {
    if (report.start(state)) {
      byte[] body = ErrorReportDuty.report(state.view());
      ctx.pipeToSelf(deps.step().writeErrorReport(jobId, state.core().spec(), body), ErrorReportDuty::outcome);
    }
    return Effect().noReply();
  }

  private ReplyEffect<Request.Event, RequestState> errorReportWritten(Failed state, ErrorReportWritten cmd) {
    if (cmd.failure() != null) {
      Duration again = report.failed();
      log().warn("Job {}: writing {} failed ({} time(s)), trying again in {} s: {}", jobId, state.core().spec().errorOutput(),
          report.failures(), again.toSeconds(), cmd.failure());
      timers.startSingleTimer(Timer.REPORT_ERROR, Timer.REPORT_ERROR, again);
      return Effect().noReply();
    }
    report.ended();
    return persist(state, new ErrorReported(cmd.eTag(), clock.instant()))
        .thenRun(this::settle)
        .thenNoReply();
  }

  /** Given up for good and recorded, so neither this actor nor the waker tries again after a restart. */
  private ReplyEffect<Request.Event, RequestState> errorReportRefused(Failed state, ErrorReportRefused cmd) {
    report.ended();
    return persist(state, new ErrorReportAbandoned(cmd.reason(), clock.instant()))
        .thenRun(s -> {
          timers.cancel(Timer.REPORT_ERROR);
          log().warn("Job {}: gave up its error report: {}", jobId, cmd.reason());
          settle(s);
        })
        .thenNoReply();
  }

  // ---- Any job: callbacks, cancellation

  private ReplyEffect<Request.Event, RequestState> deliverCallback(Job state) {
    Callback due = state.core().callback();
    if (callback.start(due)) {
      String id = CallbackDuty.webhookId(state.core(), due.status());
      int attempt = due.failures() + 1;
      byte[] body = CallbackDuty.body(id, due.status(), state.view());
      ctx.pipeToSelf(deps.webhooks().send(state.core().spec().callbackUrl(), id, body),
          (status, failure) -> CallbackDuty.answer(due.status(), attempt, status, failure));
    }
    return Effect().noReply();
  }

  private ReplyEffect<Request.Event, RequestState> callbackAnswered(Job state, CallbackAnswered cmd) {
    callback.answered();
    Callback due = state.core().callback();
    if (due == null || due.status() != cmd.status()) {
      settle(state); // a newer notice replaced this one while it was on its way
      return Effect().noReply();
    }
    Instant now = clock.instant();
    if (CallbackDuty.delivered(cmd)) {
      return persist(state, new CallbackDelivered(cmd.status(), cmd.attempt(), cmd.httpStatus(), now))
          .thenRun(this::settle)
          .thenNoReply();
    }
    String error = CallbackDuty.error(cmd);
    Instant retryAt = callback.retryAt(cmd.attempt(), now);
    return persist(state, new CallbackFailed(cmd.status(), cmd.attempt(), error, retryAt, now))
        .thenRun(s -> {
          if (retryAt == null) {
            log().warn("Job {}: gave up on its {} callback after {} attempts: {}", jobId, cmd.status(), cmd.attempt(), error);
          } else {
            log().info("Job {}: {} callback attempt {} failed, again at {}: {}", jobId, cmd.status(), cmd.attempt(), retryAt, error);
          }
          settle(s);
        })
        .thenNoReply();
  }

  private ReplyEffect<Request.Event, RequestState> cancel(Job state, Cancel cmd) {
    if (state instanceof Cancelled) {
      return Effect().reply(cmd.replyTo(), StatusReply.success(new JobLookup(state.view())));
    }
    if (!state.status().isCancellable()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("job " + jobId + " is " + state.status()
          + "; only waiting, queued, retrying, running or reviewed jobs can be cancelled"));
    }
    String reason = cmd.reason() == null || cmd.reason().isBlank() ? "cancelled" : cmd.reason();
    return persist(state, new JobCancelled(reason, clock.instant()))
        .thenRun(s -> {
          cancelled = true;
          timers.cancel(Timer.CHECK_INPUTS);
          timers.cancel(Timer.ACQUIRE_AGAIN);
          timers.cancel(Timer.PARK);
          timers.cancel(Timer.RETRY_DUE);
          if (state instanceof Running running) {
            releaseLease(running);
          } else if (state instanceof AwaitingReview) {
            discardHeld(state.core().spec());
          } else if (state instanceof Queued queued) {
            // Takes the job out of the endpoint's queue; a grant already on its way is returned on arrival.
            slots.release(queued.core().spec().endpoint(), null);
          }
          log().info("Job {} cancelled while {} ({})", jobId, state.status(), reason);
          settle(s);
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new JobLookup(((Job) s).view())));
  }

  // ---- Leaving memory

  /**
   * Does what a job at rest still owes (its error report, its callback) and, once nothing is owed, lets the
   * actor passivate. Until then it stays, and the waker starts it again after a crash, so no duty is forgotten.
   */
  private void settle(RequestState state) {
    if (!(state instanceof Job job)) {
      timers.startSingleTimer(Timer.PASSIVATE, Timer.PASSIVATE, settings.passivateAfter());
      return;
    }
    if (job instanceof Failed failed && failed.owesReport() && !timers.isTimerActive(Timer.REPORT_ERROR)) {
      reportError(failed);
    }
    Callback due = job.core().callback();
    if (due != null) {
      Duration wait = due.retryAt() == null ? Duration.ZERO : Duration.between(clock.instant(), due.retryAt());
      if (wait.isNegative() || wait.isZero()) {
        deliverCallback(job);
      } else {
        timers.startSingleTimer(Timer.DELIVER_CALLBACK, Timer.DELIVER_CALLBACK, wait);
      }
    }
    if (job.hasWork()) {
      timers.cancel(Timer.PASSIVATE);
    } else {
      timers.startSingleTimer(Timer.PASSIVATE, Timer.PASSIVATE, settings.passivateAfter());
    }
  }

  /** Sharding stops the actor: passivation (nothing left to do) or a hand-off of its shard to another node. */
  private ReplyEffect<Request.Event, RequestState> stop(RequestState state, Stop stop) {
    boolean parkedInQueue = slots.parked() && state instanceof Queued; // its grant wakes it
    if (shard != null && state instanceof Job job && job.hasWork() && !parkedInQueue) {
      // Sent through this node's region, which holds it until the shard has its new home.
      ClusterSharding.get(ctx.getSystem()).entityRefFor(ENTITY_KEY, jobId).tell(new Wake(null));
      log().info("Job {} is {} and moves with its shard; it continues on the shard's new node", jobId, job.status());
    }
    return Effect().stop().thenNoReply();
  }

  private ReplyEffect<Request.Event, RequestState> ignore(RequestState state, Timer timer) {
    if (timer == Timer.PASSIVATE) {
      return passivate();
    }
    return Effect().noReply(); // a timer of a stage the job has left
  }

  private ReplyEffect<Request.Event, RequestState> passivate() {
    if (shard != null) {
      shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
      return Effect().noReply();
    }
    return Effect().stop().thenNoReply();
  }

  // ---- Persisting, logging

  /**
   * Every persist goes through here. Once the journal has stored the event it reports how long that took and
   * the transition it made ({@link JobMetrics#persisted}); a side effect of the persist, so never repeated when
   * the journal is replayed.
   */
  private EffectBuilder<Request.Event, RequestState> persist(RequestState before, Request.Event event) {
    long requested = System.nanoTime();
    return Effect().persist(event)
        .thenRun(after -> deps.metrics().persisted(before, (Job) after, event, Duration.ofNanos(System.nanoTime() - requested)));
  }

  private org.slf4j.Logger log() {
    return ctx.getLog();
  }

  /** The MDC of every message this job handles (its jobId is set once for all, see {@link #create}). */
  private Map<String, String> mdc(Object message) {
    String known = endpoint != null ? endpoint : message instanceof Submit submit ? submit.spec().endpoint() : null;
    return known == null ? Map.of() : Map.of("endpoint", known);
  }
}
