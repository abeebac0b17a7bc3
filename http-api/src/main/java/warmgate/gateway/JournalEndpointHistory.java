package warmgate.gateway;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import warmgate.InvalidInput;
import warmgate.audit.JournalReader;
import warmgate.audit.StateBands;
import warmgate.audit.StoredEvent;
import warmgate.endpoint.EndpointLifecycle;

/**
 * {@link EndpointHistory} from the journal (the endpoint's events, read from its first, as the cost audit reads them)
 * and this node's {@link QueueDepths}.
 */
public final class JournalEndpointHistory implements EndpointHistory {
  private final JournalReader journal;
  private final QueueDepths depths;
  private final Clock clock;

  public JournalEndpointHistory(JournalReader journal, QueueDepths depths, Clock clock) {
    this.journal = journal;
    this.depths = depths;
    this.clock = clock;
  }

  @Override
  public CompletionStage<History> since(String name, Instant since) {
    Instant asked = clock.instant();
    Instant from = since == null ? asked.minus(depths.keep()) : since;
    if (from.isAfter(asked)) {
      throw new InvalidInput("invalid_query", "query parameter since: " + since + " is in the future");
    }
    if (from.isBefore(asked.minus(depths.keep()).minusSeconds(60))) {
      throw new InvalidInput("invalid_query", "query parameter since: " + since + " is further back than the "
          + depths.keep().toMinutes() + " min the history is kept");
    }
    return journal.endpoint(name).exceptionally(failure -> {
      throw new CompletionException(new TryLater("the journal did not answer (" + failure.getMessage()
          + "); ask again"));
    }).thenApply(stored -> {
      Instant now = clock.instant();
      List<EndpointLifecycle.Event> events = stored.stream().map(StoredEvent::event)
          .filter(EndpointLifecycle.Event.class::isInstance).map(EndpointLifecycle.Event.class::cast).toList();
      List<StateBands.Band> bands = StateBands.of(events, from, now);
      return new History(name, from, now, bands, bands.stream().mapToDouble(StateBands.Band::billedSeconds).sum(),
          new Queue(depths.interval().toMillis() / 1000.0, depths.maxOwners(), depths.since(name, from)));
    });
  }
}
