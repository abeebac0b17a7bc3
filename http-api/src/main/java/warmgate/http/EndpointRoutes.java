package warmgate.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.service.EndpointStates;

/** {@code /v1/endpoints}: what each endpoint is doing and what it has cost; starting and stopping by hand. */
public final class EndpointRoutes extends AllDirectives {
  private final EndpointStates endpoints;

  public EndpointRoutes(EndpointStates endpoints) {
    this.endpoints = endpoints;
  }

  public Route route() {
    return pathPrefix("endpoints", () -> concat(
        pathEnd(() -> get(this::list)),
        path(segment(), name -> get(() -> configured(name, StatusCodes.OK, endpoints::get))),
        // 202: the provider call goes on after the answer; the view says where the endpoint stands now.
        path(segment().slash("start"), name -> post(() -> configured(name, StatusCodes.ACCEPTED, endpoints::start))),
        path(segment().slash("stop"), name -> post(() -> configured(name, StatusCodes.ACCEPTED, endpoints::stop)))));
  }

  private Route list() {
    List<CompletableFuture<EndpointLifecycle.View>> views =
        endpoints.names().stream().map(n -> endpoints.get(n).toCompletableFuture()).toList();
    return onSuccess(CompletableFuture.allOf(views.toArray(CompletableFuture[]::new)), done ->
        complete(JsonResponses.json(StatusCodes.OK, Map.of("endpoints", views.stream().map(CompletableFuture::join).toList()))));
  }

  /** {@code status} with the view {@code call} answers for a configured endpoint; 404 for any other name. */
  private Route configured(String name, StatusCode status, Function<String, CompletionStage<EndpointLifecycle.View>> call) {
    if (!endpoints.names().contains(name)) {
      return complete(JsonResponses.notFound("no endpoint " + name + " is configured; known: " + endpoints.names()));
    }
    return onSuccess(call.apply(name), view -> complete(JsonResponses.json(status, view)));
  }
}
