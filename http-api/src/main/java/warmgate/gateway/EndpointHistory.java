package warmgate.gateway;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;
import warmgate.audit.StateBands;

/** What an endpoint did lately: its phases from the journal, and its queue owner by owner as this node sampled it. */
public interface EndpointHistory {

  /**
   * Only for a configured endpoint. Fails with {@link warmgate.InvalidInput} ({@code invalid_query}) when
   * {@code since} is in the future or further back than the queue's history is kept.
   *
   * @param since null for as far back as the queue's history is kept
   */
  CompletionStage<History> since(String name, Instant since);

  /**
   * @param states the phases in {@code [from, to)}, in time order, with the unit-seconds billed in each
   * @param billedSeconds the bands' billed unit-seconds added up
   * @param queue the queue's samples in the same window
   */
  record History(String name, Instant from, Instant to, List<StateBands.Band> states, double billedSeconds,
      Queue queue) {}

  /**
   * @param intervalSeconds how often this node samples
   * @param maxOwners owners named per sample; the rest are summed in each sample's {@code others}
   */
  record Queue(double intervalSeconds, int maxOwners, List<QueueDepths.Sample> samples) {}
}
