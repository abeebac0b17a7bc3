package warmgate.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A node's Pekko Management routes on loopback: {@code /ready} and the read-only cluster view. They take no token. */
public record Management(int port) {
  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** {@code /ready} answers 200: the member is Up and its HTTP edge bound. False while it does not answer. */
  public boolean ready() {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The addresses this node lists as Up, when it reports no unreachable member; empty when it does not answer. */
  public List<String> upMembers() {
    try {
      JsonNode view = api().get("/cluster/members").body();
      if (view == null || !view.path("unreachable").isEmpty()) {
        return List.of();
      }
      List<String> up = new ArrayList<>();
      for (JsonNode member : view.path("members")) {
        if ("Up".equals(member.path("status").asText())) {
          up.add(member.path("node").asText());
        }
      }
      return up;
    } catch (RuntimeException e) {
      return List.of();
    }
  }

  /** The address of the member this node names oldest: it hosts the shard coordinator and the singletons. */
  public String oldest() {
    return api().get("/cluster/members").body().path("oldest").asText();
  }

  private Api api() {
    return new Api(port, null);
  }
}
