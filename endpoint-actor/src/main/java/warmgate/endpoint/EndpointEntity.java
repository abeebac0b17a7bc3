package warmgate.endpoint;

import warmgate.provider.EndpointProvider;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
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
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import warmgate.Failures;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.EndpointCommand.Acquire;
import warmgate.endpoint.EndpointCommand.Described;
import warmgate.endpoint.EndpointCommand.Enlist;
import warmgate.endpoint.EndpointCommand.Get;
import warmgate.endpoint.EndpointCommand.Grant;
import warmgate.endpoint.EndpointCommand.Leave;
import warmgate.endpoint.EndpointCommand.Park;
import warmgate.endpoint.EndpointCommand.Parked;
import warmgate.endpoint.EndpointCommand.ProviderCallDone;
import warmgate.endpoint.EndpointCommand.ProviderCallFailed;
import warmgate.endpoint.EndpointCommand.ProviderReported;
import warmgate.endpoint.EndpointCommand.Release;
import warmgate.endpoint.EndpointCommand.Renew;
import warmgate.endpoint.EndpointCommand.SlotReply;
import warmgate.endpoint.EndpointCommand.Start;
import warmgate.endpoint.EndpointCommand.Stop;
import warmgate.endpoint.EndpointCommand.StoppedToLeave;
import warmgate.endpoint.EndpointCommand.Tick;
import warmgate.endpoint.EndpointCommand.Unavailable;
import warmgate.endpoint.EndpointCommand.View;
import warmgate.endpoint.EndpointLifecycle.CameIntoService;
import warmgate.endpoint.EndpointLifecycle.Cold;
import warmgate.endpoint.EndpointLifecycle.Event;
import warmgate.endpoint.EndpointLifecycle.Failed;
import warmgate.endpoint.EndpointLifecycle.MarkedFailed;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.endpoint.EndpointLifecycle.StartFailed;
import warmgate.endpoint.EndpointLifecycle.StartRequested;
import warmgate.endpoint.EndpointLifecycle.Starting;
import warmgate.endpoint.EndpointLifecycle.State;
import warmgate.endpoint.EndpointLifecycle.StopRequested;
import warmgate.endpoint.EndpointLifecycle.Stopped;
import warmgate.endpoint.EndpointLifecycle.Stopping;
import warmgate.endpoint.EndpointLifecycle.Warm;
import warmgate.logging.EntityMdc;

/**
 * The truth about one endpoint's warm/cold state, one entity per endpoint name.
 *
 * <p>It starts the endpoint on the first {@link Acquire}, holds jobs while it starts, grants at most
 * {@code max-concurrency} leases once the provider reports it in service, and stops it once it has had nothing
 * queued or running for as long as its {@link KeepWarmPolicy} says ({@code idle-timeout}, or learned from its idle
 * gaps). Lifecycle transitions are persisted: they are the endpoint-seconds ledger, and they make an endpoint
 * started before a crash still stop when idle.
 *
 * <p>The wait queue and the leases ({@link SlotQueue}) are deliberately not persisted. Jobs in memory repeat {@link Acquire} until
 * granted and {@link Renew} while they run, so both rebuild themselves after this actor restarts; a lease whose
 * holder stops renewing expires and its slot returns. A job that has waited long enough {@link Park}s: it leaves
 * memory and keeps only its id in the queue, and its grant wakes it through {@link ParkedJobs}. After a restart this
 * actor asks {@link ParkedJobs#recall} for those, which come back as {@link Enlist}s. Neither are the idle gaps an
 * adaptive keep-warm policy learned persisted: it learns them again after a restart.
 */
public final class EndpointEntity extends EventSourcedBehaviorWithEnforcedReplies<EndpointCommand, Event, State> {

  // ---- Sharding

  public static final EntityTypeKey<EndpointCommand> ENTITY_KEY = EntityTypeKey.create(EndpointCommand.class, "Endpoint");

  /**
   * What every endpoint entity of a node is given besides its endpoint.
   *
   * @param metrics where each endpoint's state, cold starts and journal writes are reported
   * @param parked how the queue reaches its jobs that left memory, and gets them back after a restart
   */
  public record Deps(Clock clock, EndpointMetrics metrics, ParkedJobs parked) {
    /** No metrics, and no jobs that park (tests and tools without sharded jobs). */
    public static Deps of(Clock clock) {
      return new Deps(clock, EndpointMetrics.NONE, ParkedJobs.NONE);
    }

    public Deps withMetrics(EndpointMetrics metrics) {
      return new Deps(clock, metrics, parked);
    }

    public Deps withParked(ParkedJobs parked) {
      return new Deps(clock, metrics, parked);
    }
  }

  /**
   * Registers the entity with sharding. Remembered, so an endpoint that was starting or warm before a full
   * restart is looked after again without waiting for a job to ask.
   */
  public static void init(ActorSystem<?> system, Endpoints endpoints, Deps deps) {
    ClusterSharding.get(system)
        .init(
            Entity.of(ENTITY_KEY, ctx -> create(endpoints.get(ctx.getEntityId()), deps))
                .withSettings(ClusterShardingSettings.create(system).withRememberEntities(true))
                .withStopMessage(Leave.INSTANCE));
  }

  public static Behavior<EndpointCommand> create(ManagedEndpoint endpoint, Deps deps) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> EntityMdc.of(Map.of("endpoint", endpoint.name()), message -> Map.of(),
        new EndpointEntity(endpoint, deps, ctx, timers))));
  }

  // ---- Runtime state, not persisted (see the class comment)

  private final EndpointSettings settings;
  private final EndpointProvider provider;
  private final Clock clock;
  private final EndpointMetrics metrics;
  private final ParkedJobs parked;
  private final ActorContext<EndpointCommand> ctx;
  private final Duration tick;
  /** The provider's own news of a change (see {@link EndpointProvider#watch}), ended when this actor stops. */
  private final EndpointProvider.Watch watch;
  /** A parked job's address is null: its grant goes through {@link #parked}. */
  private final SlotQueue<ActorRef<SlotReply>> queue;
  private Instant lastActivity;
  private KeepWarmPolicy keepWarm;
  /**
   * Whether {@code lastActivity} marks the end of a job here, so that the next job's arrival measures a real idle
   * gap; false until the first job after this actor started or recovered.
   */
  private boolean gapMeasurable;
  /** Monotonic, not the domain clock: polling pace is about real elapsed time, even under a test clock. */
  private long lastDescribeNanos = System.nanoTime() - Duration.ofDays(1).toNanos();
  /** How long a refused job waits before it asks a FAILED endpoint again. */
  static final Duration UNAVAILABLE_RETRY_AFTER = Duration.ofMinutes(1);

  /** When a job was last refused by this FAILED endpoint: jobs still want it, so a retry start is worth it. */
  private Instant lastRefusal;
  private boolean describing;
  private boolean describeAgain;
  private boolean providerCallInFlight;
  private String detail;
  /** Leaving the node ({@link Leave}): stopping a node-local endpoint, taking no more work meanwhile. */
  private boolean leaving;

  private EndpointEntity(ManagedEndpoint endpoint, Deps deps, ActorContext<EndpointCommand> ctx, TimerScheduler<EndpointCommand> timers) {
    super(
        PersistenceId.of(ENTITY_KEY.name(), endpoint.settings().name()),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.settings = endpoint.settings();
    this.provider = endpoint.provider();
    this.clock = deps.clock();
    this.metrics = deps.metrics();
    this.parked = deps.parked();
    this.queue = new SlotQueue<>(settings.maxQueued(), settings.maxConcurrency(), settings.leaseTtl(),
        () -> UUID.randomUUID().toString(), SlotQueue.Ordering.FIFO);
    this.ctx = ctx;
    this.lastActivity = clock.instant();
    this.keepWarm = KeepWarmPolicy.of(settings);
    this.tick = tickInterval(settings);
    timers.startTimerWithFixedDelay(Tick.INSTANCE, tick);
    ActorRef<EndpointCommand> self = ctx.getSelf();
    this.watch = provider.watch(status -> self.tell(new ProviderReported(status)));
  }

  static Duration tickInterval(EndpointSettings s) {
    Duration tick = Duration.ofSeconds(1);
    if (s.statusPollInterval().compareTo(tick) < 0) {
      tick = s.statusPollInterval();
    }
    Duration quarterLease = s.leaseTtl().dividedBy(4);
    return quarterLease.compareTo(tick) < 0 ? quarterLease : tick;
  }

  @Override
  public State emptyState() {
    return EndpointLifecycle.initialState();
  }

  /** Pure, and shared with readers that fold the journal: see {@link EndpointLifecycle#next}. */
  @Override
  public EventHandler<State, Event> eventHandler() {
    return EndpointLifecycle.EVENT_HANDLER;
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return Set.of(EndpointLifecycle.TAG);
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> {
          lastActivity = clock.instant();
          if (state.phase() != Phase.COLD) {
            ctx.getLog().info("Endpoint {} recovered {}; asking the provider where it stands", settings.name(), state.phase());
          }
          describe();
          report(state);
          // Jobs parked in the queue of this entity's last incarnation, if any, wait to be enlisted again.
          parked.recall(settings.name());
        })
        .onSignal(PostStop.instance(), state -> {
          watch.close();
          metrics.stopped(settings.name());
        })
        .build();
  }

  @Override
  public CommandHandlerWithReply<EndpointCommand, Event, State> commandHandler() {
    CommandHandlerWithReply<EndpointCommand, Event, State> handlers =
        cold().orElse(starting()).orElse(warm()).orElse(stopping()).orElse(failed()).orElse(anyState()).build();
    return (state, command) -> {
      ReplyEffect<Event, State> effect = leaving ? whileLeaving(state, command) : handlers.apply(state, command);
      report(state); // the queue and the leases change in the handlers themselves, not only through events
      return effect;
    };
  }

  private CommandHandlerWithReplyBuilderByState<EndpointCommand, Event, Cold, State> cold() {
    return newCommandHandlerWithReplyBuilder()
        .forStateType(Cold.class)
        .onCommand(Acquire.class, this::acquireWhenCold)
        .onCommand(Enlist.class, this::enlistWhenCold)
        .onCommand(Start.class, this::startWhenCold)
        .onCommand(Described.class, this::describedWhenCold)
        .onCommand(Tick.class, this::tickWhenCold);
  }

  private CommandHandlerWithReplyBuilderByState<EndpointCommand, Event, Starting, State> starting() {
    return newCommandHandlerWithReplyBuilder()
        .forStateType(Starting.class)
        .onCommand(Described.class, this::describedWhenStarting)
        .onCommand(ProviderCallFailed.class, this::providerCallFailedWhenStarting)
        .onCommand(Tick.class, this::tickWhenStarting);
  }

  private CommandHandlerWithReplyBuilderByState<EndpointCommand, Event, Warm, State> warm() {
    return newCommandHandlerWithReplyBuilder()
        .forStateType(Warm.class)
        .onCommand(Acquire.class, this::acquireWhenWarm)
        .onCommand(Enlist.class, this::enlistWhenWarm)
        .onCommand(Start.class, this::startWhenWarm)
        .onCommand(Stop.class, this::stopWhenWarm)
        .onCommand(Release.class, this::releaseWhenWarm)
        .onCommand(Described.class, this::describedWhenWarm)
        .onCommand(Tick.class, this::tickWhenWarm);
  }

  private CommandHandlerWithReplyBuilderByState<EndpointCommand, Event, Stopping, State> stopping() {
    return newCommandHandlerWithReplyBuilder()
        .forStateType(Stopping.class)
        .onCommand(Described.class, this::describedWhenStopping)
        .onCommand(Tick.class, this::tickWhenStopping);
  }

  private CommandHandlerWithReplyBuilderByState<EndpointCommand, Event, Failed, State> failed() {
    return newCommandHandlerWithReplyBuilder()
        .forStateType(Failed.class)
        .onCommand(Acquire.class, this::acquireWhenFailed)
        .onCommand(Enlist.class, this::enlistWhenFailed)
        .onCommand(Start.class, this::startWhenFailed)
        .onCommand(Described.class, this::describedWhenCold)
        .onCommand(Tick.class, this::tickWhenFailed);
  }

  private CommandHandlerWithReplyBuilderByState<EndpointCommand, Event, State, State> anyState() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Acquire.class, (state, cmd) -> enqueue(cmd))
        .onCommand(Enlist.class, (state, cmd) -> enlist(cmd))
        .onCommand(Park.class, (state, cmd) -> park(cmd))
        .onCommand(Renew.class, this::renew)
        .onCommand(Release.class, (state, cmd) -> release(cmd))
        .onCommand(Get.class, this::get)
        .onCommand(Start.class, this::startByHand)
        .onCommand(Stop.class, this::stopByHand)
        .onCommand(ProviderCallFailed.class, (state, cmd) -> providerCallFailed(cmd))
        .onCommand(ProviderCallDone.class, (state, cmd) -> providerCallDone())
        .onCommand(ProviderReported.class, this::providerReported)
        .onCommand(Leave.class, this::leave);
  }

  // ---- Cold

  private ReplyEffect<Event, State> acquireWhenCold(Cold state, Acquire cmd) {
    enqueue(cmd);
    return startIfDue(state, "job " + cmd.jobId() + " asked for a slot");
  }

  private ReplyEffect<Event, State> enlistWhenCold(Cold state, Enlist cmd) {
    enlist(cmd);
    return queue.queued() == 0 ? Effect().noReply() : startIfDue(state, queue.queued() + " job(s) queued in the journal");
  }

  private ReplyEffect<Event, State> startWhenCold(Cold state, Start cmd) {
    if (providerCallInFlight) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(
          "endpoint " + settings.name() + " is still clearing up after a failed start; try again in a few seconds"));
    }
    return requestStart(state, "started by hand").thenReply(cmd.replyTo(), s -> StatusReply.success(view(s)));
  }

  private ReplyEffect<Event, State> tickWhenCold(Cold state, Tick tick) {
    expireStale();
    if (queue.queued() > 0) {
      return startIfDue(state, queue.queued() + " job(s) waiting");
    }
    describeIfDue(settings.reconcileInterval());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> startIfDue(Cold state, String reason) {
    Instant now = clock.instant();
    if (state.startFailures() > 0 && now.isBefore(state.since().plus(startBackoff(state.startFailures())))) {
      return Effect().noReply(); // still backing off after a failed start; the tick tries again
    }
    return requestStart(state, reason).thenNoReply();
  }

  /** Persists the start and then asks the provider; the caller decides what to answer. */
  private EffectBuilder<Event, State> requestStart(State state, String reason) {
    return persist(state, new StartRequested(clock.instant(), reason))
        .thenRun(s -> {
          ctx.getLog().info("Endpoint {}: COLD -> STARTING ({})", settings.name(), reason);
          callProvider("start");
        });
  }

  /**
   * An endpoint that runs although our journal says cold (or failed) was started behind our back; adopt it so it
   * is billed and stopped.
   */
  private ReplyEffect<Event, State> describedWhenCold(State state, Described cmd) {
    describeDone();
    detail = cmd.state().detail();
    if (providerCallInFlight) {
      return Effect().noReply(); // our own stop of a failed start is still on its way
    }
    return switch (cmd.state().status()) {
      case CREATING, IN_SERVICE, UPDATING -> persist(state, new StartRequested(clock.instant(), "found " + cmd.state().detail() + " at the provider"))
          .thenRun(s -> ctx.getLog().warn("Endpoint {} is {} at the provider although cold here; adopting it", settings.name(), cmd.state().detail()))
          .thenNoReply();
      case FAILED -> {
        // A failed leftover would block the next create (SageMaker refuses an existing name); clear it.
        callProvider("stop");
        yield Effect().noReply();
      }
      case ABSENT, DELETING -> Effect().noReply();
    };
  }

  // ---- Starting

  private ReplyEffect<Event, State> describedWhenStarting(Starting state, Described cmd) {
    describeDone();
    detail = cmd.state().detail();
    Instant now = clock.instant();
    return switch (cmd.state().status()) {
      case IN_SERVICE, UPDATING -> persist(state, new CameIntoService(now, cmd.state().detail()))
          .thenRun(s -> {
            ctx.getLog().info("Endpoint {}: STARTING -> WARM after {} ms; {} job(s) waiting",
                settings.name(), Duration.between(state.since(), now).toMillis(), queue.queued());
            lastActivity = now;
            dispatch();
          })
          .thenNoReply();
      case FAILED -> failStart(state, "the provider reports " + cmd.state().detail());
      case ABSENT -> {
        // The start request was persisted but the call may never have been made (crash) or was lost.
        if (!providerCallInFlight) {
          callProvider("start");
        }
        yield Effect().noReply();
      }
      case CREATING, DELETING -> Effect().noReply();
    };
  }

  private ReplyEffect<Event, State> providerCallFailedWhenStarting(Starting state, ProviderCallFailed cmd) {
    ReplyEffect<Event, State> logged = providerCallFailed(cmd);
    return cmd.operation().equals("start") ? failStart(state, "the start request failed: " + cmd.reason()) : logged;
  }

  private ReplyEffect<Event, State> tickWhenStarting(Starting state, Tick tick) {
    expireStale();
    if (Duration.between(state.since(), clock.instant()).compareTo(settings.startTimeout()) > 0) {
      return failStart(state, "not in service after " + settings.startTimeout().toSeconds() + " s (start-timeout)");
    }
    describeIfDue(settings.statusPollInterval());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> failStart(Starting state, String reason) {
    Instant now = clock.instant();
    if (state.startFailures() + 1 >= settings.maxStartFailures()) {
      String why = "gave up after " + (state.startFailures() + 1) + " failed starts in a row; last: " + reason;
      return persist(state, new StartFailed(now, reason), new MarkedFailed(now, why))
          .thenRun(s -> {
            ctx.getLog().error("Endpoint {}: STARTING -> FAILED ({}); {} waiting job(s) told to retry later; "
                + "POST /v1/endpoints/{}/start clears it", settings.name(), why, queue.queued(), settings.name());
            detail = why;
            refuseWaiting(why);
            callProvider("stop"); // whatever half-started must not be billed or block the next create
          })
          .thenNoReply();
    }
    return persist(state, new StartFailed(now, reason))
        .thenRun(s -> {
          Cold cold = (Cold) s;
          ctx.getLog().warn("Endpoint {}: start failed ({} in a row): {}; next try in {} s",
              settings.name(), cold.startFailures(), reason, startBackoff(cold.startFailures()).toSeconds());
          detail = reason;
          // Whatever half-started must not be billed or block the next create.
          callProvider("stop");
        })
        .thenNoReply();
  }

  // ---- Failed

  private ReplyEffect<Event, State> acquireWhenFailed(Failed state, Acquire cmd) {
    lastRefusal = clock.instant();
    cmd.replyTo().tell(unavailable(cmd.jobId(), state.reason()));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> enlistWhenFailed(Failed state, Enlist cmd) {
    lastRefusal = clock.instant();
    cmd.jobIds().forEach(jobId -> parked.deliver(jobId, unavailable(jobId, state.reason())));
    cmd.replyTo().tell(Done.getInstance());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> startWhenFailed(Failed state, Start cmd) {
    if (providerCallInFlight) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(
          "endpoint " + settings.name() + " is still clearing up after its failed start; try again in a few seconds"));
    }
    return requestStart(state, "started by hand after it had failed: " + state.reason())
        .thenReply(cmd.replyTo(), s -> StatusReply.success(view(s)));
  }

  /** With {@code failed-retry-after} set, jobs that keep asking get one more start after that long. */
  private ReplyEffect<Event, State> tickWhenFailed(Failed state, Tick tick) {
    Instant now = clock.instant();
    boolean jobsAsked = lastRefusal != null && Duration.between(lastRefusal, now).compareTo(UNAVAILABLE_RETRY_AFTER.multipliedBy(3)) < 0;
    if (!settings.failedRetryAfter().isZero() && jobsAsked && !providerCallInFlight
        && !now.isBefore(state.since().plus(settings.failedRetryAfter()))) {
      return requestStart(state, "retrying " + settings.failedRetryAfter().toMinutes() + " min after it failed").thenNoReply();
    }
    describeIfDue(settings.reconcileInterval());
    return Effect().noReply();
  }

  private Unavailable unavailable(String jobId, String reason) {
    Duration retryAfter = settings.failedRetryAfter().isZero() ? UNAVAILABLE_RETRY_AFTER
        : min(UNAVAILABLE_RETRY_AFTER, settings.failedRetryAfter());
    return new Unavailable(settings.name(), jobId, "endpoint " + settings.name() + " is FAILED: " + reason, retryAfter);
  }

  private void refuseWaiting(String reason) {
    queue.drain().forEach(w -> tell(w.jobId(), w.to(), unavailable(w.jobId(), reason)));
  }

  // ---- Warm

  private ReplyEffect<Event, State> acquireWhenWarm(Warm state, Acquire cmd) {
    enqueue(cmd);
    dispatch();
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> enlistWhenWarm(Warm state, Enlist cmd) {
    enlist(cmd);
    dispatch();
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> startWhenWarm(Warm state, Start cmd) {
    lastActivity = clock.instant();
    return Effect().reply(cmd.replyTo(), StatusReply.success(view(state)));
  }

  private ReplyEffect<Event, State> stopWhenWarm(Warm state, Stop cmd) {
    if (!queue.idle()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("endpoint " + settings.name() + " has " + queue.inFlight()
          + " job(s) running and " + queue.queued() + " queued; it stops on its own once idle"));
    }
    return requestStop(state, "stopped by hand").thenReply(cmd.replyTo(), s -> StatusReply.success(view(s)));
  }

  private ReplyEffect<Event, State> releaseWhenWarm(Warm state, Release cmd) {
    release(cmd);
    dispatch();
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> describedWhenWarm(Warm state, Described cmd) {
    describeDone();
    detail = cmd.state().detail();
    return switch (cmd.state().status()) {
      case IN_SERVICE, UPDATING -> Effect().noReply();
      case ABSENT, DELETING -> persist(state, new Stopped(clock.instant(), "the endpoint disappeared at the provider (" + cmd.state().detail() + ")"))
          .thenRun(s -> ctx.getLog().warn("Endpoint {}: WARM -> COLD, it is {} at the provider", settings.name(), cmd.state().detail()))
          .thenNoReply();
      case FAILED -> stop(state, "the provider reports " + cmd.state().detail());
      case CREATING -> {
        // Not serving for now (a model process restarting); invocations fail transiently and jobs retry.
        ctx.getLog().warn("Endpoint {} is warm here but {} at the provider", settings.name(), cmd.state().detail());
        yield Effect().noReply();
      }
    };
  }

  private ReplyEffect<Event, State> tickWhenWarm(Warm state, Tick tick) {
    expireStale();
    dispatch();
    Instant now = clock.instant();
    if (queue.idle() && Duration.between(lastActivity, now).compareTo(keepWarm.keepWarmFor()) >= 0) {
      return stop(state, keepWarm.explain());
    }
    describeIfDue(settings.reconcileInterval());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> stop(Warm state, String reason) {
    return requestStop(state, reason).thenNoReply();
  }

  /** Persists the stop and then asks the provider; the caller decides what to answer. */
  private EffectBuilder<Event, State> requestStop(Warm state, String reason) {
    return persist(state, new StopRequested(clock.instant(), reason))
        .thenRun(s -> {
          ctx.getLog().info("Endpoint {}: WARM -> STOPPING ({})", settings.name(), reason);
          callProvider("stop");
        });
  }

  // ---- Stopping

  private ReplyEffect<Event, State> describedWhenStopping(Stopping state, Described cmd) {
    describeDone();
    detail = cmd.state().detail();
    return switch (cmd.state().status()) {
      case ABSENT -> persist(state, new Stopped(clock.instant(), "stopped"))
          .thenRun(s -> ctx.getLog().info("Endpoint {}: STOPPING -> COLD after {} s billed in all; {} job(s) waiting",
              settings.name(), s.ledger().billedSeconds(clock.instant()), queue.queued()))
          .thenNoReply();
      case DELETING -> Effect().noReply();
      case CREATING, IN_SERVICE, UPDATING, FAILED -> {
        // Our stop request was lost or never made (crash); make it again.
        if (!providerCallInFlight) {
          callProvider("stop");
        }
        yield Effect().noReply();
      }
    };
  }

  private ReplyEffect<Event, State> tickWhenStopping(Stopping state, Tick tick) {
    expireStale();
    describeIfDue(settings.statusPollInterval());
    return Effect().noReply();
  }

  // ---- Any state

  private ReplyEffect<Event, State> enqueue(Acquire cmd) {
    Instant now = clock.instant();
    if (queue.isNew(cmd.jobId())) {
      learnArrival();
    }
    lastActivity = now;
    SlotQueue.Answer answer = queue.ask(cmd.jobId(), cmd.replyTo(), now);
    if (answer instanceof SlotQueue.Held held) {
      // The job asked again before our grant reached it; the same lease answers.
      cmd.replyTo().tell(new Grant(settings.name(), cmd.jobId(), held.leaseId(), settings.leaseTtl()));
    } else if (answer instanceof SlotQueue.Full full) {
      // The job stays queued in its own journal and asks again on its timer.
      ctx.getLog().debug("Endpoint {}: queue full ({}), job {} will ask again", settings.name(), full.queued(), cmd.jobId());
    }
    return Effect().noReply();
  }

  /** Holds the job's place for it while it is out of memory; see {@link Park}. */
  private ReplyEffect<Event, State> park(Park cmd) {
    if (queue.park(cmd.jobId())) {
      cmd.replyTo().tell(new Parked(settings.name(), cmd.jobId()));
    }
    return Effect().noReply();
  }

  /**
   * Takes queued jobs from the journal into the queue as parked (see {@link SlotQueue#enlist}): after a restart this
   * actor knew nothing of them, and after a node was lost the actor it knew may be gone. A job still in memory keeps
   * asking and so gets its actor back; a grant through {@link ParkedJobs} reaches it either way.
   */
  private ReplyEffect<Event, State> enlist(Enlist cmd) {
    if (!cmd.jobIds().stream().allMatch(queue::holdsLease)) {
      lastActivity = clock.instant();
    }
    for (SlotQueue.Granted<ActorRef<SlotReply>> again : queue.enlist(cmd.jobIds())) {
      parked.deliver(again.jobId(), new Grant(settings.name(), again.jobId(), again.leaseId(), settings.leaseTtl()));
    }
    cmd.replyTo().tell(Done.getInstance());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> renew(State state, Renew cmd) {
    queue.renew(cmd.jobId(), cmd.leaseId(), clock.instant());
    lastActivity = clock.instant();
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> release(Release cmd) {
    lastActivity = clock.instant();
    queue.release(cmd.jobId(), cmd.leaseId());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> get(State state, Get cmd) {
    return Effect().reply(cmd.replyTo(), view(state));
  }

  /** Starting already, or stopping (refused: the start would race the provider's delete). */
  private ReplyEffect<Event, State> startByHand(State state, Start cmd) {
    if (state instanceof Stopping) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(
          "endpoint " + settings.name() + " is stopping; start it again once it is cold"));
    }
    return Effect().reply(cmd.replyTo(), StatusReply.success(view(state)));
  }

  /** Cold or stopping already, or starting (refused: a half-created endpoint cannot be deleted everywhere). */
  private ReplyEffect<Event, State> stopByHand(State state, Stop cmd) {
    if (state instanceof Starting) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(
          "endpoint " + settings.name() + " is starting; stop it once it is warm"));
    }
    return Effect().reply(cmd.replyTo(), StatusReply.success(view(state)));
  }

  private View view(State state) {
    String why = state instanceof Cold c && c.lastFailure() != null ? c.lastFailure()
        : state instanceof Failed f ? f.reason() : detail;
    return new View(settings.name(), state.phase(), queue.queued(), queue.inFlight(), state.since(),
        state.ledger().billedSeconds(clock.instant()), why, queue.overflow(), queue.parked());
  }

  private ReplyEffect<Event, State> providerCallFailed(ProviderCallFailed cmd) {
    if (cmd.operation().equals("describe")) {
      describeDone();
    } else {
      providerCallInFlight = false;
    }
    ctx.getLog().warn("Endpoint {}: provider {} failed: {}", settings.name(), cmd.operation(), cmd.reason());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> providerReported(State state, ProviderReported cmd) {
    ctx.getLog().info("Endpoint {}: the provider reports {} while {} here; reconciling now", settings.name(), cmd.status(), state.phase());
    if (describing) {
      describeAgain = true; // the answer on its way may predate the change
    } else {
      describe();
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> providerCallDone() {
    providerCallInFlight = false;
    describe(); // see the effect of the call without waiting for the next poll
    return Effect().noReply();
  }

  // ---- Leaving the node

  private ReplyEffect<Event, State> leave(State state, Leave cmd) {
    if (!provider.nodeLocal() || state instanceof Cold || state instanceof Failed) {
      // Nothing of this node's runs (a cold start's clean-up in flight ends with the node's child processes).
      return Effect().stop().thenNoReply();
    }
    leaving = true;
    ctx.getLog().info("Endpoint {}: leaving this node while {}; stopping its model process, which cannot outlive the node",
        settings.name(), state.phase());
    ctx.pipeToSelf(provider.stop(), (ok, failure) -> new StoppedToLeave(failure == null ? null : reason(failure)));
    return Effect().noReply();
  }

  /** Waits for the stop; jobs asking meanwhile ask again and reach this entity's next incarnation. */
  private ReplyEffect<Event, State> whileLeaving(State state, EndpointCommand command) {
    if (command instanceof StoppedToLeave stopped) {
      String reason = stopped.failure() == null ? "its node stopped it on leaving"
          : "its node left, and stopping it failed: " + stopped.failure();
      return persist(state, new Stopped(clock.instant(), reason))
          .thenRun(s -> ctx.getLog().info("Endpoint {}: {} -> COLD ({}) after {} s billed in all",
              settings.name(), state.phase(), reason, s.ledger().billedSeconds(clock.instant())))
          .thenStop()
          .thenNoReply();
    }
    if (command instanceof Get get) {
      return Effect().reply(get.replyTo(), view(state));
    }
    if (command instanceof Start start) {
      return Effect().reply(start.replyTo(), StatusReply.error("endpoint " + settings.name() + " is moving to another node; try again shortly"));
    }
    if (command instanceof Stop stop) {
      return Effect().reply(stop.replyTo(), StatusReply.error("endpoint " + settings.name() + " is moving to another node; try again shortly"));
    }
    return Effect().noReply();
  }

  // ---- Helpers

  /**
   * Tells the keep-warm policy a new job asks for a slot. One asking while nothing was queued or running ends an idle
   * gap, whether the endpoint stopped meanwhile or not.
   */
  private void learnArrival() {
    Instant now = clock.instant();
    Duration gap = gapMeasurable && queue.idle() ? Duration.between(lastActivity, now) : null;
    keepWarm = keepWarm.jobArrived(now, gap);
    gapMeasurable = true;
  }

  /**
   * Every persist goes through here. Once the journal has stored the events it reports how long that took, the
   * endpoint's new state and, when it came into service, its cold start (from the events' times). A side effect
   * of the persist, so never repeated when the journal is replayed.
   */
  private EffectBuilder<Event, State> persist(State before, Event... events) {
    long requested = System.nanoTime();
    return Effect().persist(List.of(events)).thenRun(after -> {
      metrics.journalWrite(Duration.ofNanos(System.nanoTime() - requested));
      if (before instanceof Starting starting && events[events.length - 1] instanceof CameIntoService came) {
        metrics.coldStart(settings.name(), Duration.between(starting.since(), came.at()));
      }
      report(after);
    });
  }

  private void report(State state) {
    metrics.state(settings.name(), state.phase(), queue.queued(), queue.inFlight());
  }

  private void dispatch() {
    for (SlotQueue.Granted<ActorRef<SlotReply>> granted : queue.dispatch(clock.instant())) {
      tell(granted.jobId(), granted.to(), new Grant(settings.name(), granted.jobId(), granted.leaseId(), settings.leaseTtl()));
    }
  }

  /** To the job's actor, or through {@link ParkedJobs} to a parked job (null {@code replyTo}). */
  private void tell(String jobId, ActorRef<SlotReply> replyTo, SlotReply reply) {
    if (replyTo != null) {
      replyTo.tell(reply);
    } else {
      parked.deliver(jobId, reply);
    }
  }

  /** Lets the queue drop leases and overflowing jobs gone silent, and says which. */
  private void expireStale() {
    SlotQueue.Expired expired = queue.expire(clock.instant());
    expired.requeued().forEach(jobId -> ctx.getLog().warn(
        "Endpoint {}: job {} never took up the slot granted to it; it waits in the queue again", settings.name(), jobId));
    expired.freed().forEach(jobId -> ctx.getLog().warn(
        "Endpoint {}: lease of job {} expired unrenewed; its slot is free again", settings.name(), jobId));
  }

  /**
   * Describes when the last describe is {@code interval} old, give or take half a tick: ticks come a scheduler
   * tick early or late, and a strict comparison would skip every other one, polling at twice the interval.
   */
  private void describeIfDue(Duration interval) {
    if (System.nanoTime() - lastDescribeNanos >= interval.toNanos() - tick.toNanos() / 2) {
      describe();
    }
  }

  /** An answer (or failure) of describe arrived; a push that came meanwhile asks once more. */
  private void describeDone() {
    describing = false;
    if (describeAgain) {
      describeAgain = false;
      describe();
    }
  }

  private void describe() {
    if (describing) {
      return;
    }
    describing = true;
    lastDescribeNanos = System.nanoTime();
    ctx.pipeToSelf(provider.describe(), (state, failure) ->
        failure == null ? new Described(state) : new ProviderCallFailed("describe", reason(failure)));
  }

  private void callProvider(String operation) {
    providerCallInFlight = true;
    var call = operation.equals("start") ? provider.start() : provider.stop();
    ctx.pipeToSelf(call, (ok, failure) ->
        failure == null ? new ProviderCallDone(operation) : new ProviderCallFailed(operation, reason(failure)));
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  /** Doubles from the status poll interval up to five minutes: a broken endpoint is not hammered. */
  Duration startBackoff(int failures) {
    long base = Math.max(1000, settings.statusPollInterval().toMillis());
    long millis = base << Math.min(failures, 16);
    return Duration.ofMillis(Math.min(millis, Duration.ofMinutes(5).toMillis()));
  }

  private static String reason(Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    return cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
  }
}
