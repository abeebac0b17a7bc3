package warmgate.endpoint;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.EndpointCommand.Described;
import warmgate.endpoint.EndpointCommand.ProviderCallFailed;
import warmgate.endpoint.EndpointCommand.Tick;
import warmgate.endpoint.EndpointLifecycle.CameIntoService;
import warmgate.endpoint.EndpointLifecycle.CapacityFallback;
import warmgate.endpoint.EndpointLifecycle.Cold;
import warmgate.endpoint.EndpointLifecycle.Event;
import warmgate.endpoint.EndpointLifecycle.FallbackStarted;
import warmgate.endpoint.EndpointLifecycle.MarkedFailed;
import warmgate.endpoint.EndpointLifecycle.StartFailed;
import warmgate.endpoint.EndpointLifecycle.Starting;
import warmgate.endpoint.EndpointLifecycle.State;
import warmgate.provider.ProviderState.Status;

/**
 * The {@link EndpointEntity}'s handlers while its endpoint starts: it comes into service, falls back on the next
 * configuration when the one tried has no capacity (deleting what failed first), or fails the start (back to cold
 * after a backoff, or FAILED after {@code max-start-failures} in a row). Its effects are the entity's.
 */
final class StartingPhase {
  private final EndpointEntity entity;
  private final EndpointSettings settings;
  private final Clock clock;
  private final ActorContext<EndpointCommand> ctx;
  private final EndpointJobs jobs;
  private final ProviderCalls calls;
  private final ConfigurationFallback fallback;

  StartingPhase(EndpointEntity entity) {
    this.entity = entity;
    this.settings = entity.settings;
    this.clock = entity.clock;
    this.ctx = entity.ctx;
    this.jobs = entity.jobs;
    this.calls = entity.calls;
    this.fallback = entity.fallback;
  }

  ReplyEffect<Event, State> described(Starting state, Described cmd) {
    calls.described();
    entity.detail = cmd.state().detail();
    if (state.clearing()) {
      return describedWhileClearing(state, cmd);
    }
    Instant now = clock.instant();
    return switch (cmd.state().status()) {
      case IN_SERVICE, UPDATING -> entity.persist(state, entity.withUnits(state, cmd.state(), new CameIntoService(now,
          cmd.state().detail(), state.configuration())))
          .thenRun(s -> {
            ctx.getLog().info("Endpoint {}: STARTING -> WARM after {} ms{}; {} job(s) waiting", settings.name(),
                Duration.between(state.since(), now).toMillis(), EndpointEntityBase.from(s), jobs.queued());
            jobs.active(now);
            jobs.dispatch();
          })
          .thenNoReply();
      case FAILED -> {
        String next = fallback.nextAfter(state.configuration(), cmd.state());
        String reason = "the provider reports " + cmd.state().detail();
        yield next != null ? fallBack(state, next, cmd.state().detail())
            : failStart(state, fallback.exhausted(reason, cmd.state()));
      }
      case ABSENT -> {
        // The start request was persisted but the call may never have been made (crash) or was lost.
        if (!calls.inFlight()) {
          calls.start(state.configuration());
        }
        yield entity.Effect().noReply();
      }
      case CREATING, DELETING -> entity.Effect().noReply();
    };
  }

  /** No capacity for the configuration tried: delete what failed, then start the next one. */
  private ReplyEffect<Event, State> fallBack(Starting state, String next, String why) {
    return entity.persist(state, new CapacityFallback(clock.instant(), state.configuration(), next, why))
        .thenRun(s -> {
          ctx.getLog().warn("Endpoint {}: no capacity for configuration {} ({}); deleting it, then starting {}",
              settings.name(), state.configuration(), why, next); // not a failed start while a next one is listed
          calls.stop();
        })
        .thenNoReply();
  }

  /** After a capacity fallback, whatever the provider shows is the failed start's until it is gone. */
  private ReplyEffect<Event, State> describedWhileClearing(Starting state, Described cmd) {
    if (calls.inFlight() || cmd.state().status() == Status.DELETING) {
      return entity.Effect().noReply(); // our delete is on its way
    }
    if (cmd.state().status() != Status.ABSENT) {
      calls.stop(); // our delete was lost or never made (crash); make it again
      return entity.Effect().noReply();
    }
    return entity.persist(state, new FallbackStarted(clock.instant(), state.configuration()))
        .thenRun(s -> calls.start(s.configuration()))
        .thenNoReply();
  }

  ReplyEffect<Event, State> providerCallFailed(Starting state, ProviderCallFailed cmd) {
    ReplyEffect<Event, State> logged = entity.providerCallFailed(cmd);
    return cmd.operation().equals("start") ? failStart(state, "the start request failed: " + cmd.reason()) : logged;
  }

  ReplyEffect<Event, State> tick(Starting state, Tick tick) {
    jobs.expireStale();
    if (Duration.between(state.tryStarted(), clock.instant()).compareTo(settings.startTimeout()) > 0) {
      return failStart(state, "not in service after " + settings.startTimeout().toSeconds() + " s (start-timeout)");
    }
    calls.describeIfDue(settings.statusPollInterval());
    return entity.Effect().noReply();
  }

  /** Back to COLD to try again after a backoff, or FAILED after {@code max-start-failures} in a row. */
  private ReplyEffect<Event, State> failStart(Starting state, String reason) {
    Instant now = clock.instant();
    if (state.startFailures() + 1 >= settings.maxStartFailures()) {
      String why = "gave up after " + (state.startFailures() + 1) + " failed starts in a row; last: " + reason;
      return entity.persist(state, new StartFailed(now, reason), new MarkedFailed(now, why))
          .thenRun(s -> {
            ctx.getLog().error("Endpoint {}: STARTING -> FAILED ({}); {} waiting job(s) told to retry later; "
                + "POST /v1/endpoints/{}/start clears it", settings.name(), why, jobs.queued(), settings.name());
            entity.detail = why;
            jobs.refuseWaiting(why);
            calls.stop(); // whatever half-started must not be billed or block the next create
          })
          .thenNoReply();
    }
    return entity.persist(state, new StartFailed(now, reason))
        .thenRun(s -> {
          Cold cold = (Cold) s;
          ctx.getLog().warn("Endpoint {}: start failed ({} in a row): {}; next try in {} s",
              settings.name(), cold.startFailures(), reason, calls.startBackoff(cold.startFailures()).toSeconds());
          entity.detail = reason;
          // Whatever half-started must not be billed or block the next create.
          calls.stop();
        })
        .thenNoReply();
  }
}
