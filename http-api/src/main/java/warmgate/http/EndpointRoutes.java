package warmgate.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import warmgate.InvalidInput;
import warmgate.auth.Principal;
import warmgate.endpoint.EndpointCommand;
import warmgate.gateway.EndpointHistory;
import warmgate.gateway.EndpointStates;

/**
 * {@code /v1/endpoints}: what each endpoint is doing, has done lately ({@code /history}) and has cost, for every
 * principal; starting and stopping by hand, for admins.
 */
public final class EndpointRoutes extends AllDirectives {
  private final EndpointStates endpoints;
  private final EndpointHistory history;

  /** Without {@code /history}, which then answers 404. */
  public EndpointRoutes(EndpointStates endpoints) {
    this(endpoints, null);
  }

  public EndpointRoutes(EndpointStates endpoints, EndpointHistory history) {
    this.endpoints = endpoints;
    this.history = history;
  }

  /** The routes as {@code principal} may use them. */
  public Route route(Principal principal) {
    return pathPrefix("endpoints", () -> concat(
        pathEnd(() -> get(this::list)),
        path(segment(), name -> get(() -> configured(name, StatusCodes.OK, endpoints::get))),
        path(segment().slash("history"), name -> get(() -> parameterOptional("since", since ->
            history(name, since)))),
        // 202: the provider call goes on after the answer; the view says where the endpoint stands now.
        path(segment().slash("start"), name -> post(() -> adminOnly(principal, "starting an endpoint",
            () -> configured(name, StatusCodes.ACCEPTED, endpoints::start)))),
        path(segment().slash("stop"), name -> post(() -> adminOnly(principal, "stopping an endpoint",
            () -> configured(name, StatusCodes.ACCEPTED, endpoints::stop))))));
  }

  /** Checked before the name, so a principal that may not act learns nothing about which endpoints exist. */
  private static Route adminOnly(Principal principal, String action, Supplier<Route> inner) {
    principal.requireAdmin(action);
    return inner.get();
  }

  private Route list() {
    List<CompletableFuture<EndpointCommand.View>> views =
        endpoints.names().stream().map(n -> endpoints.get(n).toCompletableFuture()).toList();
    return onSuccess(CompletableFuture.allOf(views.toArray(CompletableFuture[]::new)), done ->
        complete(JsonResponses.json(StatusCodes.OK, Map.of("endpoints",
            views.stream().map(CompletableFuture::join).toList()))));
  }

  private Route history(String name, Optional<String> since) {
    if (history == null || !endpoints.names().contains(name)) {
      return complete(JsonResponses.notFound("no endpoint " + name + " is configured; known: " + endpoints.names()));
    }
    return onSuccess(history.since(name, since.map(EndpointRoutes::instant).orElse(null)),
        h -> complete(JsonResponses.json(StatusCodes.OK, h)));
  }

  private static Instant instant(String value) {
    try {
      return DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(value.strip(), OffsetDateTime::from).toInstant();
    } catch (DateTimeException e) {
      throw new InvalidInput("invalid_query", "query parameter since: '" + value + "' is not an ISO-8601 instant with "
          + "an offset, such as 2026-03-01T10:00:00Z");
    }
  }

  /** {@code status} with the view {@code call} answers for a configured endpoint; 404 for any other name. */
  private Route configured(String name, StatusCode status, Function<String,
      CompletionStage<EndpointCommand.View>> call) {
    if (!endpoints.names().contains(name)) {
      return complete(JsonResponses.notFound("no endpoint " + name + " is configured; known: " + endpoints.names()));
    }
    return onSuccess(call.apply(name), view -> complete(JsonResponses.json(status, view)));
  }
}
