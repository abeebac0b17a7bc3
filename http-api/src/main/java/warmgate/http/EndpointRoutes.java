package warmgate.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import warmgate.auth.Principal;
import warmgate.endpoint.EndpointCommand;
import warmgate.gateway.EndpointStates;

/**
 * {@code /v1/endpoints}: what each endpoint is doing and what it has cost, for every principal; starting
 * and stopping by hand, for admins.
 */
public final class EndpointRoutes extends AllDirectives {
  private final EndpointStates endpoints;

  public EndpointRoutes(EndpointStates endpoints) {
    this.endpoints = endpoints;
  }

  /** The routes as {@code principal} may use them. */
  public Route route(Principal principal) {
    return pathPrefix("endpoints", () -> concat(
        pathEnd(() -> get(this::list)),
        path(segment(), name -> get(() -> configured(name, StatusCodes.OK, endpoints::get))),
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

  /** {@code status} with the view {@code call} answers for a configured endpoint; 404 for any other name. */
  private Route configured(String name, StatusCode status, Function<String,
      CompletionStage<EndpointCommand.View>> call) {
    if (!endpoints.names().contains(name)) {
      return complete(JsonResponses.notFound("no endpoint " + name + " is configured; known: " + endpoints.names()));
    }
    return onSuccess(call.apply(name), view -> complete(JsonResponses.json(status, view)));
  }
}
