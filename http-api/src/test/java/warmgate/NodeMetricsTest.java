package warmgate;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import warmgate.auth.TestTokens;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.Endpoints;
import warmgate.endpoint.FakeProvider;
import warmgate.endpoint.InferenceClient;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.endpoint.ProviderState.Status;
import warmgate.job.ObjectRef;
import warmgate.metrics.Scrape;
import warmgate.persistence.DatabaseSettings;
import warmgate.route.RouteTable;
import warmgate.testing.InMemoryBlobStore;

// A real node (Main.init: H2 journal in a temporary folder, sharded Request and EndpointLifecycle entities) with an
// in-memory bucket, a provider the test puts in service and a model that answers at once; real HTTP on loopback.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeMetricsTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private final HttpClient http = HttpClient.newHttpClient();
  private final FakeProvider provider = new FakeProvider();
  private final InMemoryBlobStore blobs = new InMemoryBlobStore();
  private final InferenceClient model = (contentType, body) -> CompletableFuture.completedFuture(
      new InferenceClient.InferenceResponse("ply\n".getBytes(StandardCharsets.US_ASCII), "application/octet-stream"));
  private ActorSystem<Void> system;
  private Main.Node node;
  private String base;

  @BeforeAll
  void start(@TempDir Path dataDir) throws Exception {
    Map<String, Object> settings = new HashMap<>();
    settings.put("warmgate.data-dir", dataDir.toString());
    settings.put("warmgate.http.port", 0);
    settings.put("pekko.remote.artery.canonical.port", 0);
    settings.put("warmgate.auth.tokens", TestTokens.entries());
    settings.put("warmgate.blob-store.local.watch-interval", "0s"); // the bucket is in memory here
    settings.put("warmgate.endpoint-defaults.status-poll-interval", "100ms");
    settings.put("warmgate.request.inputs-check-interval", "100ms");
    settings.put("warmgate.request.acquire-interval", "300ms");
    Config config = DatabaseSettings.applyTo(ConfigFactory.load(
        ConfigFactory.parseMap(settings).withFallback(ConfigFactory.parseResourcesAnySyntax("application"))));
    system = ActorSystem.create(Behaviors.empty(), "warmgate", config);
    Config warmgate = config.getConfig("warmgate");
    Endpoints endpoints = Endpoints.bind(EndpointSettings.fromConfig(warmgate), s -> new ManagedEndpoint(s, provider, model));
    node = Main.init(system, new Main.Deps(blobs, endpoints, RouteTable.fromConfig(warmgate, endpoints.names()), Clock.systemUTC(), List.of()));
    base = "http://127.0.0.1:" + node.binding().toCompletableFuture().join().localAddress().getPort();
  }

  @AfterAll
  void stop() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
  }

  private HttpResponse<String> send(String method, String path, String body, String token) throws Exception {
    var builder = HttpRequest.newBuilder(URI.create(base + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      builder.header("Authorization", "Bearer " + token);
    }
    return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** GET /metrics as a scraper sends it: without a token. */
  private Scrape scrape() throws Exception {
    var response = send("GET", "/metrics", null, null);
    assertThat(response.statusCode()).isEqualTo(200);
    return Scrape.parse(response.body());
  }

  /** Submits a job whose inputs are in the bucket already, and waits until it succeeded. */
  private void runJob(String base, boolean putInServiceOnStart) throws Exception {
    blobs.put(ObjectRef.parse("s3://gen3d/users/a/input/" + base + "_image.png"), new byte[] {1});
    blobs.put(ObjectRef.parse("s3://gen3d/users/a/input/" + base + "_mask.png"), new byte[] {2});
    var submitted = send("POST", "/v1/jobs", """
        {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/users/a/input/%1$s_image.png","mask":"s3://gen3d/users/a/input/%1$s_mask.png"},
         "output":"s3://gen3d/users/a/output/%1$s.ply"}""".formatted(base), TestTokens.ADMIN);
    assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(202);
    String jobId = Json.mapper().readTree(submitted.body()).path("jobId").asText();
    if (putInServiceOnStart) {
      await(() -> assertThat(provider.starts.get()).isEqualTo(1));
      provider.set(Status.IN_SERVICE);
    }
    await(() -> {
      JsonNode job = Json.mapper().readTree(send("GET", "/v1/jobs/" + jobId, null, TestTokens.ADMIN).body());
      assertThat(job.path("status").asText()).isEqualTo("SUCCEEDED");
    });
  }

  interface Check {
    void run() throws Exception;
  }

  /** Tries {@code check} until it passes or {@link #WAIT} is over; the last failure is the test's. */
  private static void await(Check check) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      try {
        check.run();
        return;
      } catch (AssertionError e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(100);
      }
    }
  }

  @Test
  void jobsThatRanThroughTheEntitiesShowInTheScrapeTheHistogramsCountEachOneAndTheIndexCountsThem() throws Exception {
    runJob("first", true);

    await(() -> {
      Scrape scrape = scrape();
      // The job's lease is returned just after it succeeded.
      assertThat(scrape.value("warmgate_endpoint_in_flight_jobs", "endpoint", "gen3d")).isEqualTo(0);
    });
    Scrape first = scrape();
    for (String status : List.of("WAITING_FOR_INPUTS", "QUEUED", "RUNNING", "SUCCEEDED")) {
      assertThat(first.value("warmgate_job_transitions_total", "endpoint", "gen3d", "status", status)).as(status).isEqualTo(1);
    }
    assertThat(first.value("warmgate_job_transitions_total", "endpoint", "gen3d", "status", "FAILED")).isNull();
    assertThat(first.value("warmgate_job_queue_wait_seconds_count", "endpoint", "gen3d")).isEqualTo(1);
    assertThat(first.value("warmgate_job_end_to_end_seconds_count", "endpoint", "gen3d", "status", "SUCCEEDED")).isEqualTo(1);
    assertThat(first.value("warmgate_endpoint_cold_start_seconds_count", "endpoint", "gen3d")).isEqualTo(1);
    assertThat(first.value("warmgate_endpoint_state", "endpoint", "gen3d", "state", "WARM")).isEqualTo(1);
    assertThat(first.value("warmgate_endpoint_state", "endpoint", "gen3d", "state", "COLD")).isEqualTo(0);
    assertThat(first.value("warmgate_endpoint_queued_jobs", "endpoint", "gen3d")).isEqualTo(0);
    assertThat(first.value("warmgate_journal_write_seconds_count", "entity", "Request")).isGreaterThanOrEqualTo(4);
    assertThat(first.value("warmgate_journal_write_seconds_count", "entity", "Endpoint")).isGreaterThanOrEqualTo(2);

    runJob("second", false); // the endpoint is warm: no second cold start

    Scrape second = scrape();
    assertThat(second.value("warmgate_job_transitions_total", "endpoint", "gen3d", "status", "SUCCEEDED")).isEqualTo(2);
    assertThat(second.value("warmgate_job_queue_wait_seconds_count", "endpoint", "gen3d")).isEqualTo(2);
    assertThat(second.value("warmgate_job_end_to_end_seconds_count", "endpoint", "gen3d", "status", "SUCCEEDED")).isEqualTo(2);
    assertThat(second.value("warmgate_job_end_to_end_seconds_bucket", "endpoint", "gen3d", "status", "SUCCEEDED", "le", "+Inf"))
        .isEqualTo(2);
    assertThat(second.value("warmgate_endpoint_cold_start_seconds_count", "endpoint", "gen3d")).isEqualTo(1);
    assertThat(second.value("warmgate_journal_write_seconds_count", "entity", "Request"))
        .isGreaterThanOrEqualTo(first.value("warmgate_journal_write_seconds_count", "entity", "Request") + 4);

    // Jobs by status come from the job index, which follows the journal a moment later.
    await(() -> {
      Scrape scrape = scrape();
      assertThat(scrape.value("warmgate_jobs", "status", "SUCCEEDED")).isEqualTo(2);
      assertThat(scrape.value("warmgate_jobs", "status", "FAILED")).as("every status is reported").isEqualTo(0);
    });
  }
}
