package warmgate.endpoint;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilderByState;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import warmgate.endpoint.EndpointCommand.Acquire;
import warmgate.endpoint.EndpointCommand.Described;
import warmgate.endpoint.EndpointCommand.Enlist;
import warmgate.endpoint.EndpointCommand.Leave;
import warmgate.endpoint.EndpointCommand.ProviderCallFailed;
import warmgate.endpoint.EndpointCommand.Release;
import warmgate.endpoint.EndpointCommand.Renew;
import warmgate.endpoint.EndpointCommand.Start;
import warmgate.endpoint.EndpointCommand.Stop;
import warmgate.endpoint.EndpointCommand.Tick;
import warmgate.endpoint.EndpointCommand.WarmUp;
import warmgate.endpoint.EndpointLifecycle.Cold;
import warmgate.endpoint.EndpointLifecycle.Event;
import warmgate.endpoint.EndpointLifecycle.Failed;
import warmgate.endpoint.EndpointLifecycle.Phase;
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
 * gaps). Lifecycle transitions are persisted: they are the unit-seconds ledger, and they make an endpoint
 * started before a crash still stop when idle.
 *
 * <p>The wait queue and the leases ({@link SlotQueue}) are deliberately not persisted. Jobs in memory repeat {@link
 * Acquire} until
 * granted and {@link Renew} while they run, so both rebuild themselves after this actor restarts; a lease whose
 * holder stops renewing expires and its slot returns. A job whose turn is not near parks (at once, or after
 * {@code park-after}): it leaves memory and keeps only its id in the queue, is called back a little before its
 * turn, and its grant reaches it through {@link ParkedJobs} (see {@link EndpointJobs#settle}). After a restart this
 * actor asks {@link ParkedJobs#recall} for those, which come back as {@link Enlist}s. Neither are the idle gaps an
 * adaptive keep-warm policy learned persisted: it learns them again after a restart.
 *
 * <p>This file is the state machine, read top to bottom as COLD → STARTING → WARM → STOPPING, and FAILED, with the
 * STARTING phase's handlers in {@link StartingPhase} (coming into service, capacity fallback, failed starts); what it
 * does the same in every phase (the runtime state, journal writes and figures, leaving the node) is {@link
 * EndpointEntityBase}'s, and the queue, the provider calls and the configurations tried on a capacity shortage are
 * plain classes it asks ({@link EndpointJobs}, {@link ProviderCalls}, {@link ConfigurationFallback}).
 */
public final class EndpointEntity extends EndpointEntityBase {
  /** What the endpoint does while it starts: come into service, fall back on a capacity shortage, or fail. */
  private final StartingPhase starting;

  // ---- Sharding

  public static final EntityTypeKey<EndpointCommand> ENTITY_KEY = EntityTypeKey.create(EndpointCommand.class,
      "Endpoint");

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
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> EntityMdc.of(Map.of("endpoint", endpoint.name()),
        message -> Map.of(),
        new EndpointEntity(endpoint, deps, ctx, timers))));
  }

  // ---- The state machine

  private EndpointEntity(ManagedEndpoint endpoint, Deps deps, ActorContext<EndpointCommand> ctx,
      TimerScheduler<EndpointCommand> timers) {
    super(endpoint, deps, ctx, timers);
    this.starting = new StartingPhase(this);
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
          jobs.active(clock.instant());
          if (state.phase() != Phase.COLD) {
            ctx.getLog().info("Endpoint {} recovered {}; asking the provider where it stands", settings.name(),
                state.phase());
          }
          calls.describe();
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
      // The queue and the leases change in the handlers themselves, not only through events.
      report(state, command == Tick.INSTANCE);
      return effect;
    };
  }

  private CommandHandlerWithReplyBuilderByState<EndpointCommand, Event, Cold, State> cold() {
    return newCommandHandlerWithReplyBuilder()
        .forStateType(Cold.class)
        .onCommand(Acquire.class, this::acquireWhenCold)
        .onCommand(Enlist.class, this::enlistWhenCold)
        .onCommand(Start.class, this::startWhenCold)
        .onCommand(WarmUp.class, this::warmUpWhenCold)
        .onCommand(Described.class, this::describedWhenCold)
        .onCommand(Tick.class, this::tickWhenCold);
  }

  private CommandHandlerWithReplyBuilderByState<EndpointCommand, Event, Starting, State> starting() {
    return newCommandHandlerWithReplyBuilder()
        .forStateType(Starting.class)
        .onCommand(Described.class, starting::described)
        .onCommand(ProviderCallFailed.class, starting::providerCallFailed)
        .onCommand(Tick.class, starting::tick);
  }

  private CommandHandlerWithReplyBuilderByState<EndpointCommand, Event, Warm, State> warm() {
    return newCommandHandlerWithReplyBuilder()
        .forStateType(Warm.class)
        .onCommand(Acquire.class, this::acquireWhenWarm)
        .onCommand(Enlist.class, this::enlistWhenWarm)
        .onCommand(Start.class, this::startWhenWarm)
        .onCommand(WarmUp.class, this::warmUpWhenWarm)
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

  // ---- Cold

  private ReplyEffect<Event, State> acquireWhenCold(Cold state, Acquire cmd) {
    jobs.ask(cmd);
    jobs.settle(cmd, false);
    return startIfDue(state, "job " + cmd.jobId() + " asked for a slot");
  }

  private ReplyEffect<Event, State> enlistWhenCold(Cold state, Enlist cmd) {
    jobs.enlist(cmd);
    return jobs.queued() == 0 ? Effect().noReply() : startIfDue(state, jobs.queued() + " job(s) queued in the journal");
  }

  private ReplyEffect<Event, State> startWhenCold(Cold state, Start cmd) {
    if (calls.inFlight()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(
          "endpoint " + settings.name() + " is still clearing up after a failed start; try again in a few seconds"));
    }
    return requestStart(state, "started by hand").thenReply(cmd.replyTo(), s -> StatusReply.success(view(s)));
  }

  /**
   * A job waiting for its mask: start now, as its own {@link Acquire} would once the mask is there. Within a start
   * backoff it waits like a job (the job's ask starts it later); while a failed start is cleared up it is dropped.
   */
  private ReplyEffect<Event, State> warmUpWhenCold(Cold state, WarmUp cmd) {
    if (calls.inFlight()) {
      return Effect().noReply(); // a failed start is being cleared up; the job's own ask will start it
    }
    return startIfDue(state, "job " + cmd.jobId() + " waits for an input (warm-on-first-input)");
  }

  private ReplyEffect<Event, State> tickWhenCold(Cold state, Tick tick) {
    jobs.expireStale();
    if (jobs.queued() > 0) {
      return startIfDue(state, jobs.queued() + " job(s) waiting");
    }
    calls.describeIfDue(settings.reconcileInterval());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> startIfDue(Cold state, String reason) {
    Instant now = clock.instant();
    if (state.startFailures() > 0 && now.isBefore(state.since().plus(calls.startBackoff(state.startFailures())))) {
      return Effect().noReply(); // still backing off after a failed start; the tick tries again
    }
    return requestStart(state, reason).thenNoReply();
  }

  /** Persists the start and then asks the provider; the caller decides what to answer. */
  private EffectBuilder<Event, State> requestStart(State state, String reason) {
    String first = fallback.first(); // every start tries the first configuration again: capacity may be back
    return persist(state, new StartRequested(clock.instant(), reason, first))
        .thenRun(s -> {
          ctx.getLog().info("Endpoint {}: COLD -> STARTING ({})", settings.name(), reason);
          calls.start(first);
        });
  }

  /**
   * An endpoint that runs although our journal says cold (or failed) was started behind our back; adopt it so it
   * is billed and stopped.
   */
  private ReplyEffect<Event, State> describedWhenCold(State state, Described cmd) {
    calls.described();
    detail = cmd.state().detail();
    if (calls.inFlight()) {
      return Effect().noReply(); // our own stop of a failed start is still on its way
    }
    return switch (cmd.state().status()) {
      case CREATING, IN_SERVICE, UPDATING -> persist(state, new StartRequested(clock.instant(), "found "
          + cmd.state().detail() + " at the provider"))
          .thenRun(s -> ctx.getLog().warn("Endpoint {} is {} at the provider although cold here; adopting it",
              settings.name(), cmd.state().detail()))
          .thenNoReply();
      case FAILED -> {
        // A failed leftover would block the next create (SageMaker refuses an existing name); clear it.
        calls.stop();
        yield Effect().noReply();
      }
      case ABSENT, DELETING -> Effect().noReply();
    };
  }

  // ---- Warm

  private ReplyEffect<Event, State> acquireWhenWarm(Warm state, Acquire cmd) {
    jobs.ask(cmd);
    jobs.dispatch();
    jobs.settle(cmd, true);
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> enlistWhenWarm(Warm state, Enlist cmd) {
    jobs.enlist(cmd);
    jobs.dispatch();
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> startWhenWarm(Warm state, Start cmd) {
    jobs.active(clock.instant());
    return Effect().reply(cmd.replyTo(), StatusReply.success(view(state)));
  }

  /** Stays warm for the job whose mask is on its way: its idle clock starts again, no slot is taken. */
  private ReplyEffect<Event, State> warmUpWhenWarm(Warm state, WarmUp cmd) {
    jobs.warmedUp(clock.instant());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> stopWhenWarm(Warm state, Stop cmd) {
    if (!jobs.idle()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("endpoint " + settings.name() + " has " + jobs.inFlight()
          + " job(s) running and " + jobs.queued() + " queued; it stops on its own once idle"));
    }
    return requestStop(state, "stopped by hand").thenReply(cmd.replyTo(), s -> StatusReply.success(view(s)));
  }

  private ReplyEffect<Event, State> releaseWhenWarm(Warm state, Release cmd) {
    jobs.release(cmd);
    jobs.dispatch();
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> describedWhenWarm(Warm state, Described cmd) {
    calls.described();
    detail = cmd.state().detail();
    return switch (cmd.state().status()) {
      case IN_SERVICE, UPDATING -> rateIfChanged(state, cmd.state());
      case ABSENT, DELETING -> persist(state, new Stopped(clock.instant(), "the endpoint disappeared at the provider ("
          + cmd.state().detail() + ")"))
          .thenRun(s -> ctx.getLog().warn("Endpoint {}: WARM -> COLD, it is {} at the provider", settings.name(),
              cmd.state().detail()))
          .thenNoReply();
      case FAILED -> requestStop(state, "the provider reports " + cmd.state().detail()).thenNoReply();
      case CREATING -> {
        // Not serving for now (a model process restarting); invocations fail transiently and jobs retry.
        ctx.getLog().warn("Endpoint {} is warm here but {} at the provider", settings.name(), cmd.state().detail());
        yield rateIfChanged(state, cmd.state());
      }
    };
  }

  private ReplyEffect<Event, State> tickWhenWarm(Warm state, Tick tick) {
    jobs.expireStale();
    jobs.dispatch();
    if (jobs.idleLongEnough(clock.instant())) {
      return requestStop(state, jobs.whyStopIdle()).thenNoReply();
    }
    calls.describeIfDue(settings.reconcileInterval());
    return Effect().noReply();
  }

  /** Persists the stop and then asks the provider; the caller decides what to answer. */
  private EffectBuilder<Event, State> requestStop(Warm state, String reason) {
    return persist(state, new StopRequested(clock.instant(), reason))
        .thenRun(s -> {
          ctx.getLog().info("Endpoint {}: WARM -> STOPPING ({})", settings.name(), reason);
          calls.stop();
        });
  }

  // ---- Stopping

  private ReplyEffect<Event, State> describedWhenStopping(Stopping state, Described cmd) {
    calls.described();
    detail = cmd.state().detail();
    return switch (cmd.state().status()) {
      case ABSENT -> persist(state, new Stopped(clock.instant(), "stopped"))
          .thenRun(s -> ctx.getLog().info("Endpoint {}: STOPPING -> COLD after {} s billed in all; {} job(s) waiting",
              settings.name(), s.ledger().billedSeconds(clock.instant()), jobs.queued()))
          .thenNoReply();
      case DELETING -> Effect().noReply();
      case CREATING, IN_SERVICE, UPDATING, FAILED -> {
        // Our stop request was lost or never made (crash); make it again.
        if (!calls.inFlight()) {
          calls.stop();
        }
        yield Effect().noReply();
      }
    };
  }

  private ReplyEffect<Event, State> tickWhenStopping(Stopping state, Tick tick) {
    jobs.expireStale();
    calls.describeIfDue(settings.statusPollInterval());
    return Effect().noReply();
  }

  // ---- Failed

  private ReplyEffect<Event, State> acquireWhenFailed(Failed state, Acquire cmd) {
    jobs.refuse(cmd, state.reason());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> enlistWhenFailed(Failed state, Enlist cmd) {
    jobs.refuse(cmd, state.reason());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> startWhenFailed(Failed state, Start cmd) {
    if (calls.inFlight()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(
          "endpoint " + settings.name() + " is still clearing up after its failed start; try again in a few seconds"));
    }
    return requestStart(state, "started by hand after it had failed: " + state.reason())
        .thenReply(cmd.replyTo(), s -> StatusReply.success(view(s)));
  }

  /** With {@code failed-retry-after} set, jobs that keep asking get one more start after that long. */
  private ReplyEffect<Event, State> tickWhenFailed(Failed state, Tick tick) {
    Instant now = clock.instant();
    if (!settings.failedRetryAfter().isZero() && jobs.refusedJobsStillAsk(now) && !calls.inFlight()
        && !now.isBefore(state.since().plus(settings.failedRetryAfter()))) {
      return requestStart(state, "retrying " + settings.failedRetryAfter().toMinutes()
          + " min after it failed").thenNoReply();
    }
    calls.describeIfDue(settings.reconcileInterval());
    return Effect().noReply();
  }

}
