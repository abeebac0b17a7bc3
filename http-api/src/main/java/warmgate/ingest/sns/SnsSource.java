package warmgate.ingest.sns;

import java.util.function.Function;
import warmgate.ingest.IngestionSource;

/** S3 events delivered by Amazon SNS, signatures verified: {@code /v1/notifications/sns} ({@code warmgate.sns}). */
public final class SnsSource implements IngestionSource {
  private final Function<Node, SnsRoutes> routes;

  private SnsSource(Function<Node, SnsRoutes> routes) {
    this.routes = routes;
  }

  /** Verifies with the JDK's trust store and fetches certificates from SNS, as {@code warmgate.sns} says. */
  public static SnsSource fromConfig() {
    return new SnsSource(node -> SnsRoutes.fromConfig(node.warmgate(), node.clock()));
  }

  /** With {@code routes} as they are. */
  public static SnsSource using(SnsRoutes routes) {
    return new SnsSource(node -> routes);
  }

  @Override
  public Started start(Node node) {
    return Started.route(routes.apply(node).into(node.ingestion()));
  }
}
