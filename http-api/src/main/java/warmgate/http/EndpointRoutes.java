package warmgate.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.service.EndpointStates;

/** {@code /v1/endpoints}: what each endpoint is doing and what it has cost. */
public final class EndpointRoutes extends AllDirectives {
  private final EndpointStates endpoints;

  public EndpointRoutes(EndpointStates endpoints) {
    this.endpoints = endpoints;
  }

  public Route route() {
    return pathPrefix("endpoints", () -> concat(
        pathEnd(() -> get(this::list)),
        path(segment(), name -> get(() -> one(name)))));
  }

  private Route list() {
    List<CompletableFuture<EndpointLifecycle.View>> views =
        endpoints.names().stream().map(n -> endpoints.get(n).toCompletableFuture()).toList();
    return onSuccess(CompletableFuture.allOf(views.toArray(CompletableFuture[]::new)), done ->
        complete(JsonResponses.json(StatusCodes.OK, Map.of("endpoints", views.stream().map(CompletableFuture::join).toList()))));
  }

  private Route one(String name) {
    if (!endpoints.names().contains(name)) {
      return complete(JsonResponses.notFound("no endpoint " + name + " is configured; known: " + endpoints.names()));
    }
    return onSuccess(endpoints.get(name), view -> complete(JsonResponses.json(StatusCodes.OK, view)));
  }
}
