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

  public record StartRequested(Instant at, String reason) implements Event {}

  public record CameIntoService(Instant at, String detail) implements Event {}

  public record StartFailed(Instant at, String reason) implements Event {}

  public record StopRequested(Instant at, String reason) implements Event {}

  public record Stopped(Instant at, String reason) implements Event {}

  /** The last start failure was one too many: the endpoint is FAILED until started by hand. */
  public record MarkedFailed(Instant at, String reason) implements Event {}

  // ---- State

  /** Billed time: closed intervals summed, plus the open one since {@code openSince} (null when stopped). */
  public record Ledger(long billedMillis, Instant openSince) implements CborSerializable {
    static final Ledger EMPTY = new Ledger(0, null);

    Ledger open(Instant at) {
      return openSince != null ? this : new Ledger(billedMillis, at);
    }

    Ledger close(Instant at) {
      return openSince == null ? this : new Ledger(billedMillis + Math.max(0, Duration.between(openSince,
          at).toMillis()), null);
    }

    public long billedSeconds(Instant now) {
      return close(now).billedMillis() / 1000;
    }
  }

  public sealed interface State extends CborSerializable {
    Phase phase();

    Instant since();

    Ledger ledger();
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

  public record Starting(Instant since, Ledger ledger, int startFailures) implements State {
    public Phase phase() {
      return Phase.STARTING;
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
        .onEvent(StartRequested.class, (s, e) -> new Starting(e.at(), s.ledger().open(e.at()), s.startFailures()))
        .onEvent(MarkedFailed.class, (s, e) -> new Failed(e.at(), s.ledger(), e.reason()));
    builder.forStateType(Starting.class)
        .onEvent(CameIntoService.class, (s, e) -> new Warm(e.at(), s.ledger()))
        .onEvent(StartFailed.class, (s, e) -> new Cold(e.at(), s.ledger().close(e.at()), s.startFailures() + 1,
            e.reason()))
        // Stopped while starting: its node left (Leave); not a failed start.
        .onEvent(Stopped.class, (s, e) -> new Cold(e.at(), s.ledger().close(e.at()), s.startFailures(), null));
    builder.forStateType(Failed.class)
        .onEvent(StartRequested.class, (s, e) -> new Starting(e.at(), s.ledger().open(e.at()), 0));
    builder.forStateType(Warm.class)
        .onEvent(StopRequested.class, (s, e) -> new Stopping(e.at(), s.ledger()))
        .onEvent(Stopped.class, (s, e) -> new Cold(e.at(), s.ledger().close(e.at()), 0, null));
    builder.forStateType(Stopping.class)
        .onEvent(Stopped.class, (s, e) -> new Cold(e.at(), s.ledger().close(e.at()), 0, null));
    return builder.build();
  }

  private EndpointLifecycle() {}
}
