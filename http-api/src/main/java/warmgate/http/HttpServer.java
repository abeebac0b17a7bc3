package warmgate.http;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The HTTP edge: every route under {@code /v1}, with one error model for all of them. */
public final class HttpServer extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(HttpServer.class);

  private final Route routes;

  /** Jobs and endpoints need a token; notification routes decide for themselves (see {@link NotificationRoutes#route}). */
  public HttpServer(JobRoutes jobs, NotificationRoutes notifications, EndpointRoutes endpoints, Authentication auth) {
    this.routes = handleExceptions(ApiErrors.exceptionHandler(), () -> handleRejections(ApiErrors.rejectionHandler(), () ->
        pathPrefix("v1", () -> concat(
            notifications.route(auth),
            auth.authenticated(principal -> concat(jobs.route(principal), endpoints.route(principal)))))));
  }

  public Route routes() {
    return routes;
  }

  /** Binds, and unbinds on coordinated shutdown after letting requests in flight finish. */
  public CompletionStage<ServerBinding> start(ActorSystem<?> system, String host, int port) {
    return Http.get(system)
        .newServerAt(host, port)
        .bind(routes)
        .whenComplete((binding, failure) -> {
          if (failure != null) {
            log.error("Could not listen on {}:{}; shutting down", host, port, failure);
            system.terminate();
          } else {
            binding.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
            log.info("Warmgate listens on http://{}:{}/v1", binding.localAddress().getHostString(), binding.localAddress().getPort());
          }
        });
  }
}
