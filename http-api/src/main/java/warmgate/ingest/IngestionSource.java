package warmgate.ingest;

import com.typesafe.config.Config;
import java.time.Clock;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import warmgate.gateway.EndpointStates;
import warmgate.http.NotificationRoute;
import warmgate.metrics.Metrics;
import warmgate.provider.PushedStates;

/**
 * One way uploads reach a node: a route others deliver to (raw S3 events, SNS, EventBridge) or something the node
 * runs itself (the folder watcher, a queue consumer). Every source hands its uploads to {@link Ingestion}, so
 * routing, job ids and duplicates work alike for all. A new source is a package of its own under
 * {@code warmgate.ingest}, one line in {@link IngestionSources}, its configuration and its docs.
 */
public interface IngestionSource {

  /**
   * What a source may use of the node it runs in.
   *
   * @param warmgate the {@code warmgate} configuration block
   * @param endpoints the endpoints' state, for sources that also carry endpoint state changes
   * @param pushedStates the providers whose platforms push state changes (docs/architecture.md#providers)
   * @param metrics the node's metrics, for a source that reports figures of its own (the SQS consumer)
   */
  record Node(ActorSystem<?> system, Config warmgate, Clock clock, Ingestion ingestion, EndpointStates endpoints,
      List<PushedStates> pushedStates, Metrics metrics) {}

  /**
   * What a started source adds to the node.
   *
   * @param routes mounted under {@code /v1/notifications}
   * @param resources closed when the node stops, before the node's own resources
   */
  record Started(List<NotificationRoute> routes, List<AutoCloseable> resources) {
    public Started {
      routes = List.copyOf(routes);
      resources = List.copyOf(resources);
    }

    /** Nothing: the configuration leaves the source off. */
    public static Started nothing() {
      return new Started(List.of(), List.of());
    }

    public static Started route(NotificationRoute route) {
      return new Started(List.of(route), List.of());
    }

    public static Started resource(AutoCloseable resource) {
      return new Started(List.of(), List.of(resource));
    }
  }

  /** Starts the source, as its configuration says; called once, while the node starts, before the HTTP edge binds. */
  Started start(Node node);
}
