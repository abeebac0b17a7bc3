package warmgate.endpoint;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilderByState;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.EndpointCommand.Acquire;
import warmgate.endpoint.EndpointCommand.Enlist;
import warmgate.endpoint.EndpointCommand.Get;
import warmgate.endpoint.EndpointCommand.Leave;
import warmgate.endpoint.EndpointCommand.Park;
import warmgate.endpoint.EndpointCommand.ProviderCallDone;
import warmgate.endpoint.EndpointCommand.ProviderCallFailed;
import warmgate.endpoint.EndpointCommand.ProviderReported;
import warmgate.endpoint.EndpointCommand.Release;
import warmgate.endpoint.EndpointCommand.Renew;
import warmgate.endpoint.EndpointCommand.ResultLanded;
import warmgate.endpoint.EndpointCommand.Start;
import warmgate.endpoint.EndpointCommand.Stop;
import warmgate.endpoint.EndpointCommand.StoppedToLeave;
import warmgate.endpoint.EndpointCommand.Tick;
import warmgate.endpoint.EndpointCommand.View;
import warmgate.endpoint.EndpointCommand.WarmUp;
import warmgate.endpoint.EndpointEntity.Deps;
import warmgate.endpoint.EndpointLifecycle.CameIntoService;
import warmgate.endpoint.EndpointLifecycle.Cold;
import warmgate.endpoint.EndpointLifecycle.Event;
import warmgate.endpoint.EndpointLifecycle.Failed;
import warmgate.endpoint.EndpointLifecycle.Starting;
import warmgate.endpoint.EndpointLifecycle.State;
import warmgate.endpoint.EndpointLifecycle.Stopped;
import warmgate.endpoint.EndpointLifecycle.Stopping;
import warmgate.endpoint.EndpointLifecycle.UnitsChanged;
import warmgate.provider.EndpointProvider;
import warmgate.provider.ProviderState;

/**
 * What {@link EndpointEntity} does the same whatever its phase, so that the entity itself reads as its state machine:
 * its runtime state (none of it persisted, see the entity's class comment), its journal writes and figures, the
 * commands of jobs and of the provider that no phase handles its own way, and leaving the node. The runtime state
 * sits in two plain classes it asks: {@link EndpointJobs} (the queue, the leases, the idle clock) and
 * {@link ProviderCalls} (describe, start, stop).
 */
abstract class EndpointEntityBase extends EventSourcedBehaviorWithEnforcedReplies<EndpointCommand, Event, State> {

  final EndpointSettings settings;
  final EndpointProvider provider;
  final Clock clock;
  final EndpointMetrics metrics;
  final ParkedJobs parked;
  final ActorContext<EndpointCommand> ctx;
  /** The provider's own news of a change (see {@link EndpointProvider#watch}), ended when this actor stops. */
  final EndpointProvider.Watch watch;
  /** The queue, the leases and the idle clock. */
  final EndpointJobs jobs;
  /** Describe, start and stop, and the backoff after a failed start. */
  final ProviderCalls calls;
  /** Which configuration a start uses, and the next one on a capacity shortage. */
  final ConfigurationFallback fallback;
  /** The owner-load changes last reported to the metrics; -1: none yet. */
  private long ownersReported = -1;
  /** How many owners the metrics last got. */
  private int ownersCountReported;
  /** The provider's last word on the endpoint, shown in its view. */
  String detail;
  /** Leaving the node ({@link Leave}): stopping a node-local endpoint, taking no more work meanwhile. */
  boolean leaving;

  EndpointEntityBase(ManagedEndpoint endpoint, Deps deps, ActorContext<EndpointCommand> ctx,
      TimerScheduler<EndpointCommand> timers) {
    super(
        PersistenceId.of(EndpointEntity.ENTITY_KEY.name(), endpoint.settings().name()),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.settings = endpoint.settings();
    this.provider = endpoint.provider();
    this.clock = deps.clock();
    this.metrics = deps.metrics();
    this.parked = deps.parked();
    this.ctx = ctx;
    this.jobs = new EndpointJobs(settings, clock, parked, ctx.getLog());
    Duration tick = tickInterval(settings);
    this.calls = new ProviderCalls(provider, settings, tick, ctx::pipeToSelf);
    this.fallback = new ConfigurationFallback(provider);
    timers.startTimerWithFixedDelay(Tick.INSTANCE, tick);
    ActorRef<EndpointCommand> self = ctx.getSelf();
    this.watch = provider.watch(status -> self.tell(new ProviderReported(status)));
  }

  /** The entity's timer: at most a second, the status poll interval, and a quarter of a lease's life. */
  static Duration tickInterval(EndpointSettings s) {
    Duration tick = Duration.ofSeconds(1);
    if (s.statusPollInterval().compareTo(tick) < 0) {
      tick = s.statusPollInterval();
    }
    Duration quarterLease = s.leaseTtl().dividedBy(4);
    return quarterLease.compareTo(tick) < 0 ? quarterLease : tick;
  }

  // ---- Any state

  /** What the jobs ask and the provider answers in every phase, unless the phase's own handler came first. */
  final CommandHandlerWithReplyBuilderByState<EndpointCommand, Event, State, State> anyState() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Acquire.class, (state, cmd) -> noReplyAfter(() -> {
          jobs.ask(cmd);
          jobs.settle(cmd, false);
        }))
        .onCommand(Enlist.class, (state, cmd) -> noReplyAfter(() -> jobs.enlist(cmd)))
        .onCommand(Park.class, (state, cmd) -> noReplyAfter(() -> jobs.park(cmd)))
        .onCommand(Renew.class, (state, cmd) -> noReplyAfter(() -> jobs.renew(cmd)))
        .onCommand(Release.class, (state, cmd) -> noReplyAfter(() -> jobs.release(cmd)))
        .onCommand(ResultLanded.class, (state, cmd) -> noReplyAfter(() -> jobs.resultLanded(cmd)))
        .onCommand(Get.class, (state, cmd) -> Effect().reply(cmd.replyTo(), view(state)))
        .onCommand(Start.class, this::startByHand)
        .onCommand(Stop.class, this::stopByHand)
        // Starting: nothing to do. Stopping or FAILED: a start now would race the delete or override the failure;
        // the job's own ask, once its inputs are there, finds the endpoint as it then is.
        .onCommand(WarmUp.class, (state, cmd) -> Effect().noReply())
        .onCommand(ProviderCallFailed.class, (state, cmd) -> providerCallFailed(cmd))
        .onCommand(ProviderCallDone.class, (state, cmd) -> noReplyAfter(calls::done))
        .onCommand(ProviderReported.class, this::providerReported)
        .onCommand(Leave.class, this::leave);
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

  ReplyEffect<Event, State> providerCallFailed(ProviderCallFailed cmd) {
    calls.failed(cmd);
    ctx.getLog().warn("Endpoint {}: provider {} failed: {}", settings.name(), cmd.operation(), cmd.reason());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> providerReported(State state, ProviderReported cmd) {
    ctx.getLog().info("Endpoint {}: the provider reports {} while {} here; reconciling now", settings.name(),
        cmd.status(), state.phase());
    calls.pushed();
    return Effect().noReply();
  }

  // ---- Leaving the node

  private ReplyEffect<Event, State> leave(State state, Leave cmd) {
    if (!provider.nodeLocal() || state instanceof Cold || state instanceof Failed) {
      // Nothing of this node's runs (a cold start's clean-up in flight ends with the node's child processes).
      return Effect().stop().thenNoReply();
    }
    leaving = true;
    ctx.getLog().info("Endpoint {}: leaving this node while {}; stopping its model process, which cannot outlive the"
        + " node",
        settings.name(), state.phase());
    calls.stopToLeave();
    return Effect().noReply();
  }

  /** Waits for the stop; jobs asking meanwhile ask again and reach this entity's next incarnation. */
  ReplyEffect<Event, State> whileLeaving(State state, EndpointCommand command) {
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
      return Effect().reply(start.replyTo(), StatusReply.error("endpoint " + settings.name()
          + " is moving to another node; try again shortly"));
    }
    if (command instanceof Stop stop) {
      return Effect().reply(stop.replyTo(), StatusReply.error("endpoint " + settings.name()
          + " is moving to another node; try again shortly"));
    }
    return Effect().noReply();
  }

  // ---- Helpers

  /** Does {@code work} and answers nothing: what most commands come to. */
  private ReplyEffect<Event, State> noReplyAfter(Runnable work) {
    work.run();
    return Effect().noReply();
  }

  /**
   * Every persist goes through here. Once the journal has stored the events it reports how long that took, the
   * endpoint's new state and, when it came into service, its cold start (from the events' times). A side effect
   * of the persist, so never repeated when the journal is replayed.
   */
  EffectBuilder<Event, State> persist(State before, Event... events) {
    long requested = System.nanoTime();
    return Effect().persist(List.of(events)).thenRun(after -> {
      metrics.journalWrite(Duration.ofNanos(System.nanoTime() - requested));
      if (before instanceof Starting starting && events[events.length - 1] instanceof CameIntoService came) {
        metrics.coldStart(settings.name(), Duration.between(starting.since(), came.at()));
      }
      report(after);
    });
  }

  // ---- Billed units

  /**
   * {@code event}, after a {@link UnitsChanged} if the provider bills other units than the ledger counts: persisted
   * together, so the ledger counts the new units from the same instant.
   */
  Event[] withUnits(State state, ProviderState described, Event event) {
    return state.ledger().units() == described.billedUnits() ? new Event[] {event}
        : new Event[] {new UnitsChanged(event.at(), described.billedUnits()), event};
  }

  /** Persists a change of the units the provider bills for the endpoint that exists; nothing otherwise. */
  ReplyEffect<Event, State> rateIfChanged(State state, ProviderState described) {
    if (state.ledger().openSince() == null || state.ledger().units() == described.billedUnits()) {
      return Effect().noReply();
    }
    return persist(state, new UnitsChanged(clock.instant(), described.billedUnits()))
        .thenRun(s -> ctx.getLog().info("Endpoint {}: the provider bills {} unit(s) now, {} before", settings.name(),
            described.billedUnits(), state.ledger().units()))
        .thenNoReply();
  }

  /** " from configuration X" for logs, or nothing when the provider has one. */
  static String from(State state) {
    return state.configuration() == null ? "" : " from configuration " + state.configuration();
  }

  /** After a change stored: the state and the queue's figures; the owners' only if one came or went. */
  void report(State state) {
    report(state, false);
  }

  /**
   * @param tick whether this follows the entity's {@link Tick}, at most a second apart: the owners' figures changed
   *     since the last report are reported then
   */
  void report(State state, boolean tick) {
    metrics.state(settings.name(), state.phase(), jobs.queued(), jobs.inFlight());
    if (reportOwners(tick)) {
      ownersReported = jobs.ownerLoadChanges();
      ownersCountReported = jobs.ownerCount();
      metrics.owners(settings.name(), jobs.owners());
    }
  }

  /**
   * Whether the owners' figures are due: they change with every ask and every release, and rebuilding their list for
   * each of thousands of asks a second was 2 % of a node's CPU at ingest (docs/benchmarks.md, section 10). So a
   * change of counts waits for the next tick; an owner that comes or goes is reported at once, as its series
   * appear and disappear with it.
   */
  private boolean reportOwners(boolean tick) {
    long changes = jobs.ownerLoadChanges();
    return changes != ownersReported && (tick || ownersReported < 0 || jobs.ownerCount() != ownersCountReported);
  }

  View view(State state) {
    return jobs.view(state, detail);
  }
}
