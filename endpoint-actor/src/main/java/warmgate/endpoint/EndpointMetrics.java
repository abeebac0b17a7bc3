package warmgate.endpoint;

import java.time.Duration;
import java.util.List;

/**
 * What an {@link EndpointLifecycle} reports about its endpoint, on the node that hosts the entity. http-api
 * exposes it in Prometheus format; {@link #NONE} is for tests and for nodes that do not expose metrics.
 *
 * <p>Durations come from the entity's events (their {@code at} times), and are reported once, after the event is
 * stored: never again when the entity replays its journal.
 */
public interface EndpointMetrics {
  /** Where the endpoint stands; reported after every command and every stored change, so it is never stale. */
  void state(String endpoint, EndpointLifecycle.Phase phase, int queued, int inFlight);

  /** The owners with jobs queued or running at the endpoint now; reported with {@link #state}. */
  void owners(String endpoint, List<EndpointCommand.OwnerLoad> owners);

  /** The entity stopped on this node (passivated, moved to another node, or the node leaves): its figures go too. */
  void stopped(String endpoint);

  /** From the start request to the provider reporting the endpoint in service. */
  void coldStart(String endpoint, Duration duration);

  /** From asking the journal to store the entity's events to its confirmation. */
  void journalWrite(Duration duration);

  EndpointMetrics NONE = new EndpointMetrics() {
    @Override
    public void state(String endpoint, EndpointLifecycle.Phase phase, int queued, int inFlight) {}

    @Override
    public void owners(String endpoint, List<EndpointCommand.OwnerLoad> owners) {}

    @Override
    public void stopped(String endpoint) {}

    @Override
    public void coldStart(String endpoint, Duration duration) {}

    @Override
    public void journalWrite(Duration duration) {}
  };
}
