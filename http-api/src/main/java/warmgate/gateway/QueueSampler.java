package warmgate.gateway;

import java.time.Clock;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Asks every configured endpoint for its view every {@link QueueDepths#interval()} and records the answers in
 * {@link QueueDepths}: each node keeps the history of every endpoint's queue from its own start on. An endpoint
 * that does not answer within the ask timeout leaves a gap; nothing is retried.
 */
public final class QueueSampler implements AutoCloseable {
  private final Cancellable schedule;

  private QueueSampler(Cancellable schedule) {
    this.schedule = schedule;
  }

  public static QueueSampler start(ActorSystem<?> system, EndpointStates endpoints, QueueDepths depths, Clock clock) {
    Runnable sample = () -> endpoints.names().forEach(name -> endpoints.get(name).thenAccept(view ->
        depths.record(clock.instant(), view)));
    return new QueueSampler(system.scheduler().scheduleAtFixedRate(depths.interval(), depths.interval(), sample,
        system.executionContext()));
  }

  @Override
  public void close() {
    schedule.cancel();
  }

  @Override
  public String toString() {
    return "queue sampler";
  }
}
