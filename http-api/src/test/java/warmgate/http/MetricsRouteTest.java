package warmgate.http;

import static org.assertj.core.api.Assertions.assertThat;
import static warmgate.http.ApiAssertions.assertError;

import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ForkJoinPool;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import warmgate.auth.TestTokens;
import warmgate.endpoint.EndpointCommand;
import warmgate.gateway.EndpointStates;
import warmgate.ingest.RouteIngestion;
import warmgate.ingest.RouteTable;
import warmgate.ingest.TestRoutes;
import warmgate.ingest.s3.S3Routes;
import warmgate.job.JobStatus;
import warmgate.metrics.Metrics;
import warmgate.metrics.Scrape;

// Real HTTP on loopback: GET /metrics on the whole edge, open and behind an admin token; a registry fed by hand, no
// entities.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetricsRouteTest {
  private final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString(
      "pekko.remote.artery.canonical.port = 0")
      .withFallback(ConfigFactory.load()));
  private final HttpClient http = HttpClient.newHttpClient();
  private final Metrics metrics = new Metrics();
  private String open;
  private String guarded;

  /** The edge's other routes are not asked here. */
  private static final EndpointStates NO_ENDPOINTS = new EndpointStates() {
    @Override
    public Set<String> names() {
      return Set.of("gen3d");
    }

    @Override
    public CompletionStage<EndpointCommand.View> get(String name) {
      throw new AssertionError("not asked in this test");
    }

    @Override
    public CompletionStage<EndpointCommand.View> start(String name) {
      throw new AssertionError("not asked in this test");
    }

    @Override
    public CompletionStage<EndpointCommand.View> stop(String name) {
      throw new AssertionError("not asked in this test");
    }

    @Override
    public void providerReported(String name, String status) {
      throw new AssertionError("not asked in this test");
    }
  };

  @BeforeAll
  void bind() {
    metrics.jobs().transition("gen3d", JobStatus.QUEUED);
    open = bind(false);
    guarded = bind(true);
  }

  private String bind(boolean requireAdmin) {
    var jobs = new HttpEdgeTest.FakeJobs();
    RouteTable routes = TestRoutes.gen3d();
    var server = HttpServer.builder(new JobRoutes(jobs, jobId -> CompletableFuture.completedFuture(List.of()),
        Set.of("gen3d"), null),
            new EndpointRoutes(NO_ENDPOINTS), new Authentication(TestTokens.authenticator()))
        .notifications(new S3Routes(new RouteIngestion(routes, jobs))).maxBodyBytes(HttpServer.MAX_NOTIFICATION_BYTES)
        .metrics(new MetricsRoutes(metrics, requireAdmin, ForkJoinPool.commonPool())).build();
    return "http://127.0.0.1:" + server.start(testKit.system(), "127.0.0.1",
        0).toCompletableFuture().join().localAddress().getPort();
  }

  @AfterAll
  void shutdown() {
    testKit.shutdownTestKit();
  }

  private HttpResponse<String> send(String method, String url, String token) throws Exception {
    var builder = HttpRequest.newBuilder(URI.create(url)).method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      builder.header("Authorization", "Bearer " + token);
    }
    return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void metricsAreOpenByDefaultInPrometheusTextFormat() throws Exception {
    var response = send("GET", open + "/metrics", null);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(type ->
        assertThat(type).startsWith("text/plain").contains("version=0.0.4").containsIgnoringCase("charset=utf-8"));
    assertThat(Scrape.parse(response.body()).value("warmgate_job_transitions_total", "endpoint", "gen3d", "status",
        "QUEUED"))
        .isEqualTo(1);
  }

  @Test
  void withRequireAdminMetricsNeedAnAdminToken() throws Exception {
    assertError(send("GET", guarded + "/metrics", null), 401, "unauthorized");
    assertError(send("GET", guarded + "/metrics", TestTokens.ALICE), 403, "forbidden");

    var admin = send("GET", guarded + "/metrics", TestTokens.ADMIN);

    assertThat(admin.statusCode()).isEqualTo(200);
    assertThat(Scrape.parse(admin.body()).has("warmgate_job_transitions_total")).isTrue();
  }

  @Test
  void metricsTakeOnlyGetAndLeaveTheV1RoutesAsTheyWere() throws Exception {
    assertError(send("POST", open + "/metrics", null), 405, "method_not_allowed");
    assertError(send("GET", open + "/v1/jobs/job-none", TestTokens.ADMIN), 404, "not_found");
    assertError(send("GET", open + "/v1/jobs/job-none", null), 401, "unauthorized");
  }
}
