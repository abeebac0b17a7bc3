package warmgate.http;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The HTTP edge: the API under {@code /v1} with one error model for all of it, {@code /metrics}, and the dashboard at
 * {@code /}. */
public final class HttpServer extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(HttpServer.class);

  /** Notifications are a few kB (S3 caps its events at 64 KB, SNS messages at 256 KiB); larger bodies are refused. */
  public static final long MAX_NOTIFICATION_BYTES = 1024 * 1024;

  private final Route routes;

  private HttpServer(Builder b) {
    List<Route> sources = b.notifications.stream().map(n -> n.route(b.auth)).toList();
    Route notificationRoutes = sources.isEmpty() ? reject()
        : concat(sources.get(0), sources.subList(1, sources.size()).toArray(Route[]::new));
    // Per route, whatever pekko.http.server.parsing.max-content-length allows; a chunked body is cut off as it streams.
    Route v1 = pathPrefix("v1", () -> withSizeLimit(b.maxBodyBytes, () -> concat(
        withSizeLimit(Math.min(b.maxBodyBytes, MAX_NOTIFICATION_BYTES), () -> notificationRoutes),
        b.auth.authenticated(principal -> b.audit == null
            ? concat(b.jobs.route(principal), b.endpoints.route(principal))
            : concat(b.jobs.route(principal), b.endpoints.route(principal), b.audit.route(principal))))));
    Route dashboard = new DashboardRoutes().route();
    // A request still unanswered at pekko.http.server.request-timeout gets the API's 503 with Retry-After, like an
    // ask that timed out, not the server's bare one: under overload that is what tells a client to come back later.
    this.routes = withRequestTimeoutResponse(request -> ApiErrors.unavailable(
            "Warmgate did not answer in time; the request may or may not have taken effect, and retrying is safe (with "
                + "the same Idempotency-Key for a job)"),
        () -> handleExceptions(ApiErrors.exceptionHandler(), () -> handleRejections(ApiErrors.rejectionHandler(), () ->
            b.metrics == null ? concat(v1, dashboard) : concat(b.metrics.route(b.auth), v1, dashboard))));
  }

  /**
   * A server with jobs and endpoints, which need a token ({@code auth}); the rest is added on the builder, and
   * what is not added is left out.
   */
  public static Builder builder(JobRoutes jobs, EndpointRoutes endpoints, Authentication auth) {
    return new Builder(jobs, endpoints, auth);
  }

  /** What the edge serves besides jobs and endpoints. */
  public static final class Builder {
    private final JobRoutes jobs;
    private final EndpointRoutes endpoints;
    private final Authentication auth;
    private final List<NotificationRoute> notifications = new ArrayList<>();
    private long maxBodyBytes = MAX_NOTIFICATION_BYTES;
    private AuditRoutes audit;
    private MetricsRoutes metrics;

    private Builder(JobRoutes jobs, EndpointRoutes endpoints, Authentication auth) {
      this.jobs = Objects.requireNonNull(jobs);
      this.endpoints = Objects.requireNonNull(endpoints);
      this.auth = Objects.requireNonNull(auth);
    }

    /** Routes under {@code /v1/notifications}, one per ingestion source; they read at most {@link
     * #MAX_NOTIFICATION_BYTES}. */
    public Builder notifications(NotificationRoute... routes) {
      notifications.addAll(List.of(routes));
      return this;
    }

    /** {@code warmgate.http.max-body-bytes}: the largest body any route reads; {@link #MAX_NOTIFICATION_BYTES} unless
     * set. */
    public Builder maxBodyBytes(long bytes) {
      this.maxBodyBytes = bytes;
      return this;
    }

    /** {@code /v1/audit}; it needs a token like jobs and endpoints (and an admin's). */
    public Builder audit(AuditRoutes routes) {
      this.audit = Objects.requireNonNull(routes);
      return this;
    }

    /** {@code GET /metrics}. */
    public Builder metrics(MetricsRoutes routes) {
      this.metrics = Objects.requireNonNull(routes);
      return this;
    }

    public HttpServer build() {
      return new HttpServer(this);
    }
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
            log.info("Warmgate listens on http://{}:{}/v1", binding.localAddress().getHostString(),
                binding.localAddress().getPort());
          }
        });
  }
}
