package warmgate.http;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
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
        path(segment(), name -> get(() -> one(name))),
        path(segment().slash("start"), name -> post(() -> byHand(name, endpoints::start))),
        path(segment().slash("stop"), name -> post(() -> byHand(name, endpoints::stop)))));
  }

  private Route list() {
    List<CompletableFuture<EndpointLifecycle.View>> views =
        endpoints.names().stream().map(n -> endpoints.get(n).toCompletableFuture()).toList();
    return onSuccess(CompletableFuture.allOf(views.toArray(CompletableFuture[]::new)), done ->
        complete(JsonResponses.json(StatusCodes.OK, Map.of("endpoints", views.stream().map(CompletableFuture::join).toList()))));
  }

  private Route one(String name) {
    if (!endpoints.names().contains(name)) {
      return unknown(name);
    }
    return onSuccess(endpoints.get(name), view -> complete(JsonResponses.json(StatusCodes.OK, view)));
  }

  /** 202: the provider call goes on after the answer; the view says where the endpoint stands now. */
  private Route byHand(String name, Function<String, CompletionStage<EndpointLifecycle.View>> command) {
    if (!endpoints.names().contains(name)) {
      return unknown(name);
    }
    return onSuccess(command.apply(name), view -> complete(JsonResponses.json(StatusCodes.ACCEPTED, view)));
  }

  private Route unknown(String name) {
    return complete(JsonResponses.notFound("no endpoint " + name + " is configured; known: " + endpoints.names()));
  }
}
