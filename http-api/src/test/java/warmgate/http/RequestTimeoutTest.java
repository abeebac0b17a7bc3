package warmgate.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.config.WebhookSettings;
import warmgate.gateway.EndpointStates;
import warmgate.gateway.JobJournal;
import warmgate.gateway.Jobs;
import warmgate.ingest.RouteIngestion;
import warmgate.ingest.RouteTable;
import warmgate.ingest.TestRoutes;
import warmgate.ingest.s3.S3Routes;

// The HTTP edge alone on loopback, over jobs and endpoints that never answer; no database, no entities.
class RequestTimeoutTest {
  private final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString(
      "pekko.http.server.request-timeout = 1s\npekko.remote.artery.canonical.port = 0")
          .withFallback(ConfigFactory.load()));

  @AfterEach
  void shutdown() {
    testKit.shutdownTestKit();
  }

  /** Every method of {@code type} that returns a stage returns one that never completes. */
  @SuppressWarnings("unchecked")
  private static <T> T neverAnswering(Class<T> type) {
    return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
      if (CompletionStage.class.isAssignableFrom(method.getReturnType())) {
        return new CompletableFuture<>();
      }
      if (method.getName().equals("names")) {
        return Set.of("gen3d");
      }
      throw new UnsupportedOperationException(method.getName());
    });
  }

  @Test
  void aRequestStillUnansweredAtTheServersRequestTimeoutGetsTheApis503WithRetryAfter() throws Exception {
    Jobs jobs = neverAnswering(Jobs.class);
    JobJournal journal = neverAnswering(JobJournal.class);
    RouteTable routes = TestRoutes.gen3d();
    var webhooks = new WebhookSettings("s3cret", List.of("hooks.example.com"), false,
        Duration.ofSeconds(5), 3, Duration.ofSeconds(1), Duration.ofSeconds(10));
    var server = HttpServer.builder(new JobRoutes(jobs, journal, Set.of("gen3d"), webhooks),
            new EndpointRoutes(neverAnswering(EndpointStates.class)), new Authentication(TestTokens.authenticator()))
        .notifications(new S3Routes(new RouteIngestion(routes, jobs))).build();
    int port = server.start(testKit.system(), "127.0.0.1", 0).toCompletableFuture().join().localAddress().getPort();
    HttpClient http = HttpClient.newHttpClient();

    for (String path : List.of("/v1/jobs/job-1", "/v1/endpoints/gen3d")) {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .header("Authorization", "Bearer " + TestTokens.ADMIN).timeout(Duration.ofSeconds(30)).build(),
              HttpResponse.BodyHandlers.ofString());

      assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(503);
      assertThat(response.headers().firstValue("Retry-After")).as(path)
          .hasValue(Long.toString(ApiErrors.RETRY_AFTER_SECONDS));
      JsonNode error = Json.mapper().readTree(response.body()).path("error");
      assertThat(error.path("code").asText()).as(path).isEqualTo("unavailable");
      assertThat(error.path("message").asText()).as(path).contains("did not answer in time");
    }
  }
}
