package warmgate.http;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import warmgate.metrics.Metrics;

/**
 * {@code GET /metrics}: this node's metrics in Prometheus' text format. Outside {@code /v1}, where scrapers look
 * by default; open unless {@code warmgate.metrics.require-admin} asks for an admin token.
 */
public final class MetricsRoutes extends AllDirectives {
  private static final ContentType TEXT_FORMAT = ContentTypes.parse(Metrics.CONTENT_TYPE);

  private final Metrics metrics;
  private final boolean requireAdmin;
  private final Executor blocking;

  /** @param blocking where scrapes run: the job counts are a database query */
  public MetricsRoutes(Metrics metrics, boolean requireAdmin, Executor blocking) {
    this.metrics = metrics;
    this.requireAdmin = requireAdmin;
    this.blocking = blocking;
  }

  public Route route(Authentication auth) {
    return path("metrics", () -> get(() -> requireAdmin ? auth.admin("reading metrics", this::scrape) : scrape()));
  }

  private Route scrape() {
    return completeWithFuture(CompletableFuture.supplyAsync(
        () -> HttpResponse.create().withEntity(HttpEntities.create(TEXT_FORMAT, metrics.scrape())), blocking));
  }
}
