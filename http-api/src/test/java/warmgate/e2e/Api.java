package warmgate.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import warmgate.Json;

/** A JSON client for one Warmgate node, sending one bearer token. */
public final class Api {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final String base;
  private final String token;

  public Api(int port, String token) {
    this("http://127.0.0.1:" + port, token);
  }

  private Api(String base, String token) {
    this.base = base;
    this.token = token;
  }

  /** A node at {@code base} ({@code http://host:port}), e.g. a container's published port. */
  public static Api at(String base, String token) {
    return new Api(base, token);
  }

  /** The same node, with another token, or none (null). */
  Api as(String otherToken) {
    return new Api(base, otherToken);
  }

  public record Response(int status, JsonNode body) {}

  public Response get(String path) {
    return send(request(path).GET().build());
  }

  public Response post(String path, String body) {
    return send(request(path).header("Content-Type",
        "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  /** A POST with extra headers, e.g. {@code Idempotency-Key}. */
  public Response post(String path, String body, Map<String, String> headers) {
    var builder = request(path).header("Content-Type",
        "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(builder::header);
    return send(builder.build());
  }

  /** The body as text, for answers that are not JSON ({@code /metrics}). */
  public String text(String path) {
    try {
      return http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** With the token, if there is one. */
  private HttpRequest.Builder request(String path) {
    var builder = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
    return token == null ? builder : builder.header("Authorization", "Bearer " + token);
  }

  private Response send(HttpRequest request) {
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      return new Response(response.statusCode(), response.body().isEmpty() ? null
          : Json.mapper().readTree(response.body()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The job's status, or null while the node does not answer or does not know the job yet. */
  public String status(String jobId) {
    try {
      Response r = get("/v1/jobs/" + jobId);
      return r.status() == 200 ? r.body().path("status").asText() : null;
    } catch (UncheckedIOException e) {
      return null;
    }
  }

  /** The types of the job's events in journal order; fails unless the sequence numbers run 1, 2, 3 without a gap. */
  public List<String> eventTypes(String jobId) {
    List<String> types = new ArrayList<>();
    long expected = 1;
    for (JsonNode e : get("/v1/jobs/" + jobId + "/events").body().path("events")) {
      if (e.path("seqNr").asLong() != expected++) {
        throw new AssertionError("events of " + jobId + " out of order or missing at " + e);
      }
      types.add(e.path("type").asText());
    }
    return types;
  }
}
