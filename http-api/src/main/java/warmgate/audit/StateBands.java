package warmgate.audit;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import warmgate.endpoint.EndpointLifecycle;

/**
 * An endpoint's journal as the stretches of time it spent in each phase (COLD, STARTING, WARM, STOPPING, FAILED)
 * within a window, each with the unit-seconds billed during it. The events are folded with
 * {@link EndpointLifecycle#next}, the entity's own event handler, and billed as {@link Costs#billed} bills them, so
 * the bands add up to what {@code GET /v1/endpoints} and the cost audit say for the same time.
 */
public final class StateBands {
  private StateBands() {}

  /** {@code [from, to)} in {@code state}; {@code billedSeconds} are unit-seconds within it. */
  public record Band(EndpointLifecycle.Phase state, Instant from, Instant to, double billedSeconds) {}

  private static final double MICROS_PER_SECOND = 1_000_000.0;

  /**
   * @param events all of the endpoint's events, oldest first (the phase at {@code from} depends on those before it)
   * @param now the end of the last band; later events are left out
   * @return the bands covering {@code [from, now)}, in time order; one band when nothing happened in it
   */
  public static List<Band> of(List<EndpointLifecycle.Event> events, Instant from, Instant now) {
    List<EndpointLifecycle.Event> upToNow = events.stream().filter(e -> !e.at().isAfter(now)).toList();
    List<Costs.Stretch> billed = Costs.billed(upToNow, now);
    List<Band> bands = new ArrayList<>();
    EndpointLifecycle.State state = EndpointLifecycle.initialState();
    Instant start = from;
    for (EndpointLifecycle.Event event : upToNow) {
      EndpointLifecycle.State next = EndpointLifecycle.next(state, event);
      if (next.phase() != state.phase()) {
        if (event.at().isAfter(start)) {
          bands.add(band(state.phase(), start, event.at(), billed));
          start = event.at();
        }
        // A change before the window, or at its very start, only sets the phase the window begins in.
      }
      state = next;
    }
    if (now.isAfter(start)) {
      bands.add(band(state.phase(), start, now, billed));
    }
    return List.copyOf(bands);
  }

  private static Band band(EndpointLifecycle.Phase phase, Instant from, Instant to, List<Costs.Stretch> billed) {
    long unitMicros = billed.stream().mapToLong(s -> s.units() * s.microsWithin(from, to)).sum();
    return new Band(phase, from, to, unitMicros / MICROS_PER_SECOND);
  }
}
