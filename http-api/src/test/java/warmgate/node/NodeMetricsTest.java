package warmgate.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.endpoint.FakeProvider;
import warmgate.job.ObjectRef;
import warmgate.metrics.Scrape;
import warmgate.provider.ProviderState.Status;
import warmgate.testing.InMemoryBlobStore;

// A real node (Main.init: H2 journal in a temporary folder, sharded Request and EndpointLifecycle entities) with an
// in-memory bucket, a provider the test puts in service and a model that answers at once; real HTTP on loopback.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeMetricsTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private InProcessNode node;
  private FakeProvider provider;
  private InMemoryBlobStore blobs;

  @BeforeAll
  void start(@TempDir Path dataDir) {
    node = InProcessNode.start(dataDir, Map.of(), null, false);
    provider = node.provider;
    blobs = node.blobs;
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private HttpResponse<String> send(String method, String path, String body, String token) throws Exception {
    return node.send(method, path, body, token);
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
        {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/users/a/input/%1$s_image.png",\
        "mask":"s3://gen3d/users/a/input/%1$s_mask.png"},
         "output":"s3://gen3d/users/a/output/%1$s.ply"}""".formatted(base), TestTokens.ADMIN);
    assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(202);
    String jobId = Json.mapper().readTree(submitted.body()).path("jobId").asText();
    if (putInServiceOnStart) {
      InProcessNode.await(WAIT, () -> assertThat(provider.starts.get()).isEqualTo(1));
      provider.set(Status.IN_SERVICE);
    }
    InProcessNode.await(WAIT, () -> {
      JsonNode job = Json.mapper().readTree(send("GET", "/v1/jobs/" + jobId, null, TestTokens.ADMIN).body());
      assertThat(job.path("status").asText()).isEqualTo("SUCCEEDED");
    });
  }

  @Test
  void jobsThatRanThroughTheEntitiesShowInTheScrapeTheHistogramsCountEachOneAndTheIndexCountsThem() throws Exception {
    runJob("first", true);

    InProcessNode.await(WAIT, () -> {
      Scrape scrape = scrape();
      // The job's lease is returned just after it succeeded.
      assertThat(scrape.value("warmgate_endpoint_in_flight_jobs", "endpoint", "gen3d")).isEqualTo(0);
    });
    Scrape first = scrape();
    for (String status : List.of("WAITING_FOR_INPUTS", "QUEUED", "RUNNING", "SUCCEEDED")) {
      assertThat(first.value("warmgate_job_transitions_total", "endpoint", "gen3d", "status",
          status)).as(status).isEqualTo(1);
    }
    assertThat(first.value("warmgate_job_transitions_total", "endpoint", "gen3d", "status", "FAILED")).isNull();
    assertThat(first.value("warmgate_job_queue_wait_seconds_count", "endpoint", "gen3d")).isEqualTo(1);
    assertThat(first.value("warmgate_job_end_to_end_seconds_count", "endpoint", "gen3d", "status",
        "SUCCEEDED")).isEqualTo(1);
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
    assertThat(second.value("warmgate_job_end_to_end_seconds_count", "endpoint", "gen3d", "status",
        "SUCCEEDED")).isEqualTo(2);
    assertThat(second.value("warmgate_job_end_to_end_seconds_bucket", "endpoint", "gen3d", "status", "SUCCEEDED", "le",
        "+Inf"))
        .isEqualTo(2);
    assertThat(second.value("warmgate_endpoint_cold_start_seconds_count", "endpoint", "gen3d")).isEqualTo(1);
    assertThat(second.value("warmgate_journal_write_seconds_count", "entity", "Request"))
        .isGreaterThanOrEqualTo(first.value("warmgate_journal_write_seconds_count", "entity", "Request") + 4);

    // Jobs by status come from the job index, which follows the journal a moment later.
    InProcessNode.await(WAIT, () -> {
      Scrape scrape = scrape();
      assertThat(scrape.value("warmgate_jobs", "status", "SUCCEEDED")).isEqualTo(2);
      assertThat(scrape.value("warmgate_jobs", "status", "FAILED")).as("every status is reported").isEqualTo(0);
    });
  }
}
