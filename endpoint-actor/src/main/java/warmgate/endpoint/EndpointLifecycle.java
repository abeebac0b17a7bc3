package warmgate.endpoint;

import java.time.Duration;
import java.time.Instant;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandlerBuilder;
import warmgate.CborSerializable;

/**
 * The persisted protocol of an endpoint ({@link EndpointEntity}): the events of its journal, the state its snapshots
 * hold, and how one folds into the other. Journal and snapshots store each class by its name (this class's nested
 * names, e.g. {@code warmgate.endpoint.EndpointLifecycle$StartRequested}, as the golden files show), so these keep
 * the name they were first stored under.
 */
public final class EndpointLifecycle {

  /** Every lifecycle event carries it, so the read journal can stream the endpoint-seconds ledger (audits). */
  public static final String TAG = "endpoint";

  public enum Phase {
    COLD,
    STARTING,
    WARM,
    STOPPING,
    /** Starting failed {@code max-start-failures} times in a row; jobs are refused until a start by hand. */
    FAILED
  }

  // ---- Events

  public sealed interface Event extends CborSerializable {
    Instant at();
  }

  /**
   * A start was asked for (a job, by hand, or an endpoint found running and adopted).
   *
   * @param configuration what the start uses: the first of the provider's configurations, or null when it has only
   *     one, when the endpoint was adopted, or in journals written before configurations existed
   */
  public record StartRequested(Instant at, String reason, String configuration) implements Event {
    public StartRequested(Instant at, String reason) {
      this(at, reason, null);
    }
  }

  /**
   * The endpoint serves.
   *
   * @param configuration what it was started from, as the start or the last fallback said (null: the provider's only
   *     one, or not known); the fold takes it from the state, this is for readers of the journal
   */
  public record CameIntoService(Instant at, String detail, String configuration) implements Event {
    public CameIntoService(Instant at, String detail) {
      this(at, detail, null);
    }
  }

  public record StartFailed(Instant at, String reason) implements Event {}

  public record StopRequested(Instant at, String reason) implements Event {}

  public record Stopped(Instant at, String reason) implements Event {}

  /** The last start failure was one too many: the endpoint is FAILED until started by hand. */
  public record MarkedFailed(Instant at, String reason) implements Event {}

  /**
   * The start from {@code configuration} failed for want of platform capacity, and the provider lists {@code next}
   * after it: the failed endpoint is deleted, then {@code next} is started ({@link FallbackStarted}). Not a failed
   * start; billed time from here on is {@code next}'s.
   */
  public record CapacityFallback(Instant at, String configuration, String next, String detail) implements Event {}

  /** After a {@link CapacityFallback}, the failed endpoint is gone and {@code configuration} is being started. */
  public record FallbackStarted(Instant at, String configuration) implements Event {}

  /**
   * The provider bills {@code units} (instances, or an inference component's copies) from now on, while the endpoint
   * exists; the ledger counts unit-seconds. Before the first of these, a start bills one unit.
   */
  public record UnitsChanged(Instant at, int units) implements Event {}

  // ---- State

  /**
   * Billed time in unit-milliseconds (time × the units the provider bills): closed stretches summed, plus the open one
   * since {@code openSince} (null when stopped), billed at {@code units} to {@code configuration}. Snapshots written
   * before units existed read as one unit and no configuration.
   *
   * @param units what the open stretch bills per millisecond; at least 1
   * @param configuration what the open (or the last) stretch is billed to: the configuration being started or
   *     serving; null when the provider has only one, or it is not known
   */
  public record Ledger(long billedMillis, Instant openSince, int units, String configuration)
      implements CborSerializable {
    static final Ledger EMPTY = new Ledger(0, null);

    public Ledger {
      units = Math.max(1, units);
    }

    public Ledger(long billedMillis, Instant openSince) {
      this(billedMillis, openSince, 1, null);
    }

    /** Opens a stretch at one unit (until the provider says more), billed to {@code configuration}. */
    Ledger open(Instant at, String configuration) {
      return openSince != null ? this : new Ledger(billedMillis, at, 1, configuration);
    }

    Ledger close(Instant at) {
      return openSince == null ? this : new Ledger(billedMillis + units * millisOpen(at), null, units, configuration);
    }

    /** Closes the open stretch at {@code at} and goes on at {@code newUnits}; nothing when closed. */
    Ledger rate(Instant at, int newUnits) {
      return openSince == null ? this : new Ledger(close(at).billedMillis(), at, newUnits, configuration);
    }

    /** Closes the open stretch at {@code at} and goes on billed to {@code newConfiguration}; nothing when closed. */
    Ledger attribute(Instant at, String newConfiguration) {
      return openSince == null ? this : new Ledger(close(at).billedMillis(), at, units, newConfiguration);
    }

    /** Unit-seconds billed up to {@code now}, the open stretch included. */
    public long billedSeconds(Instant now) {
      return close(now).billedMillis() / 1000;
    }

    private long millisOpen(Instant at) {
      return Math.max(0, Duration.between(openSince, at).toMillis());
    }
  }

  public sealed interface State extends CborSerializable {
    Phase phase();

    Instant since();

    Ledger ledger();

    /** The configuration the endpoint is being started from or serves; null when nothing runs, or not known. */
    default String configuration() {
      return ledger().openSince() == null ? null : ledger().configuration();
    }
  }

  /**
   * Nothing runs or is billed.
   *
   * @param startFailures consecutive failed starts; the next start waits out a backoff that grows with it
   * @param lastFailure why the last start failed, or null
   */
  public record Cold(Instant since, Ledger ledger, int startFailures, String lastFailure) implements State {
    public Phase phase() {
      return Phase.COLD;
    }
  }

  /**
   * Being started, from the ledger's {@link Ledger#configuration}.
   *
   * @param clearing after a {@link CapacityFallback}: the failed endpoint is being deleted, and the configuration is
   *     started once it is gone (false in snapshots written before fallbacks existed)
   * @param triedSince when the configuration's own try began, which {@code start-timeout} counts from; null for the
   *     first (then {@code since})
   */
  public record Starting(Instant since, Ledger ledger, int startFailures, boolean clearing, Instant triedSince)
      implements State {
    public Starting(Instant since, Ledger ledger, int startFailures) {
      this(since, ledger, startFailures, false, null);
    }

    public Phase phase() {
      return Phase.STARTING;
    }

    /** When {@code start-timeout} counts from. */
    public Instant tryStarted() {
      return triedSince != null ? triedSince : since;
    }
  }

  public record Warm(Instant since, Ledger ledger) implements State {
    public Phase phase() {
      return Phase.WARM;
    }
  }

  public record Stopping(Instant since, Ledger ledger) implements State {
    public Phase phase() {
      return Phase.STOPPING;
    }
  }

  /** Gave up starting; nothing runs or is billed. */
  public record Failed(Instant since, Ledger ledger, String reason) implements State {
    public Phase phase() {
      return Phase.FAILED;
    }
  }

  /** What an endpoint with no events is: cold, never billed. */
  public static State initialState() {
    return new Cold(null, Ledger.EMPTY, 0, null);
  }

  /**
   * The state {@code event} leads to from {@code state}: the entity's own event handler, for readers that
   * fold an endpoint's journal (the cost audit), so their billing cannot drift from {@code GET /v1/endpoints}.
   */
  public static State next(State state, Event event) {
    return EVENT_HANDLER.apply(state, event);
  }

  static final EventHandler<State, Event> EVENT_HANDLER = buildEventHandler();

  private static EventHandler<State, Event> buildEventHandler() {
    EventHandlerBuilder<State, Event> builder = EventHandlerBuilder.builder();
    builder.forStateType(Cold.class)
        .onEvent(StartRequested.class, (s, e) -> new Starting(e.at(), s.ledger().open(e.at(), e.configuration()),
            s.startFailures()))
        .onEvent(MarkedFailed.class, (s, e) -> new Failed(e.at(), s.ledger(), e.reason()));
    builder.forStateType(Starting.class)
        .onEvent(CameIntoService.class, (s, e) -> new Warm(e.at(), s.ledger()))
        .onEvent(StartFailed.class, (s, e) -> new Cold(e.at(), s.ledger().close(e.at()), s.startFailures() + 1,
            e.reason()))
        .onEvent(CapacityFallback.class, (s, e) -> new Starting(s.since(), s.ledger().attribute(e.at(), e.next()),
            s.startFailures(), true, e.at()))
        .onEvent(FallbackStarted.class, (s, e) -> new Starting(s.since(), s.ledger().attribute(e.at(),
            e.configuration()), s.startFailures(), false, e.at()))
        .onEvent(UnitsChanged.class, (s, e) -> new Starting(s.since(), s.ledger().rate(e.at(), e.units()),
            s.startFailures(), s.clearing(), s.triedSince()))
        // Stopped while starting: its node left (Leave); not a failed start.
        .onEvent(Stopped.class, (s, e) -> new Cold(e.at(), s.ledger().close(e.at()), s.startFailures(), null));
    builder.forStateType(Failed.class)
        .onEvent(StartRequested.class, (s, e) -> new Starting(e.at(), s.ledger().open(e.at(), e.configuration()), 0));
    builder.forStateType(Warm.class)
        .onEvent(StopRequested.class, (s, e) -> new Stopping(e.at(), s.ledger()))
        .onEvent(UnitsChanged.class, (s, e) -> new Warm(s.since(), s.ledger().rate(e.at(), e.units())))
        .onEvent(Stopped.class, (s, e) -> new Cold(e.at(), s.ledger().close(e.at()), 0, null));
    builder.forStateType(Stopping.class)
        .onEvent(UnitsChanged.class, (s, e) -> new Stopping(s.since(), s.ledger().rate(e.at(), e.units())))
        .onEvent(Stopped.class, (s, e) -> new Cold(e.at(), s.ledger().close(e.at()), 0, null));
    return builder.build();
  }

  private EndpointLifecycle() {}
}
