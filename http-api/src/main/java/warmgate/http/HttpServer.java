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

/** The HTTP edge: the API under {@code /v1} with one error model for all of it, {@code /metrics}, and the dashboard at {@code /}. */
public final class HttpServer extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(HttpServer.class);

  /** Notifications are a few kB (S3 caps its events at 64 KB, SNS messages at 256 KiB); larger bodies are refused. */
  public static final long MAX_NOTIFICATION_BYTES = 1024 * 1024;

  private final Route routes;

  /** Jobs and endpoints need a token; notification routes decide for themselves (see {@link NotificationRoutes#route}). */
  public HttpServer(JobRoutes jobs, NotificationRoutes notifications, EndpointRoutes endpoints, Authentication auth) {
    this(jobs, notifications, null, endpoints, auth, MAX_NOTIFICATION_BYTES);
  }

  /**
   * @param eventBridge null to leave {@code /v1/notifications/eventbridge} out
   * @param auth jobs and endpoints need a token; notification routes decide for themselves (raw S3 events need
   *     an admin token, SNS and EventBridge prove their origin in their own way)
   * @param maxBodyBytes {@code warmgate.http.max-body-bytes}: the largest body any route reads; notification
   *     routes read at most {@link #MAX_NOTIFICATION_BYTES} of it
   */
  public HttpServer(JobRoutes jobs, NotificationRoutes notifications, EventBridgeRoutes eventBridge, EndpointRoutes endpoints,
      Authentication auth, long maxBodyBytes) {
    this(jobs, notifications, eventBridge, endpoints, auth, maxBodyBytes, null, null);
  }

  /**
   * @param audit null to leave {@code /v1/audit} out; it needs a token like jobs and endpoints (and an admin's)
   * @param metrics null to leave {@code GET /metrics} out
   */
  public HttpServer(JobRoutes jobs, NotificationRoutes notifications, EventBridgeRoutes eventBridge, EndpointRoutes endpoints,
      Authentication auth, long maxBodyBytes, AuditRoutes audit, MetricsRoutes metrics) {
    Route notificationRoutes = eventBridge == null ? notifications.route(auth) : concat(notifications.route(auth), eventBridge.route());
    // Per route, whatever pekko.http.server.parsing.max-content-length allows; a chunked body is cut off as it streams.
    Route v1 = pathPrefix("v1", () -> withSizeLimit(maxBodyBytes, () -> concat(
        withSizeLimit(Math.min(maxBodyBytes, MAX_NOTIFICATION_BYTES), () -> notificationRoutes),
        auth.authenticated(principal -> audit == null
            ? concat(jobs.route(principal), endpoints.route(principal))
            : concat(jobs.route(principal), endpoints.route(principal), audit.route(principal))))));
    Route dashboard = new DashboardRoutes().route();
    // A request still unanswered at pekko.http.server.request-timeout gets the API's 503 with Retry-After, like an
    // ask that timed out, not the server's bare one: under overload that is what tells a client to come back later.
    this.routes = withRequestTimeoutResponse(request -> ApiErrors.unavailable(
            "Warmgate did not answer in time; the request may or may not have taken effect, and retrying is safe (with the same Idempotency-Key for a job)"),
        () -> handleExceptions(ApiErrors.exceptionHandler(), () -> handleRejections(ApiErrors.rejectionHandler(), () ->
            metrics == null ? concat(v1, dashboard) : concat(metrics.route(auth), v1, dashboard))));
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
