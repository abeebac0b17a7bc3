package warmgate.http;

import static org.assertj.core.api.Assertions.assertThat;
import static warmgate.http.ApiAssertions.assertError;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.auth.Tokens;
import warmgate.gateway.JobJournal;
import warmgate.ingest.RouteIngestion;
import warmgate.ingest.RouteTable;
import warmgate.ingest.TestRoutes;
import warmgate.ingest.eventbridge.EventBridgeRoutes;
import warmgate.ingest.eventbridge.EventBridgeRoutesTest;
import warmgate.ingest.s3.S3Routes;
import warmgate.provider.sagemaker.SageMakerPushedStates;

// Real HTTP on loopback: what /v1/notifications/* read (size and JSON limits, several uploads of one key) with
// fake jobs behind the real RouteIngestion; the server-wide limits are raised so the per-route ones are what is tested.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NotificationBodiesTest {
  private static final String KEY = "limits-test-key";
  private static final long MAX_BODY_BYTES = 4L * 1024 * 1024;

  private final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString(
      "pekko.http.server.parsing.max-content-length = 16m")
      .withFallback(ConfigFactory.load()));
  private final HttpClient http = HttpClient.newHttpClient();
  private final HttpEdgeTest.FakeJobs jobs = new HttpEdgeTest.FakeJobs();
  // Both credentials on every request: the EventBridge route reads its key, the others the admin token.
  private static final String KEY_HEADER = "x-warmgate-api-key: " + KEY + "\r\nAuthorization: Bearer "
      + TestTokens.ADMIN;
  private String base;
  private int port;

  @BeforeAll
  void bind() {
    RouteTable routes = TestRoutes.gen3d();
    var ingestion = new RouteIngestion(routes, jobs);
    var endpointStates = new EventBridgeRoutesTest.RecordingEndpointStates();
    var keys = new ApiKeys("x-warmgate-api-key", List.of(Tokens.sha256(KEY)), "warmgate.eventbridge.api-key-sha256");
    var eventBridge = new EventBridgeRoutes(ingestion, endpointStates, List.of(new SageMakerPushedStates(Map.of())),
        keys, Duration.ofSeconds(4));
    JobJournal journal = jobId -> CompletableFuture.completedFuture(List.of());
    var server = HttpServer.builder(new JobRoutes(jobs, journal, Set.of("gen3d"), null),
        new EndpointRoutes(endpointStates),
            new Authentication(TestTokens.authenticator()))
        .notifications(new S3Routes(ingestion), eventBridge).maxBodyBytes(MAX_BODY_BYTES).build();
    var binding = server.start(testKit.system(), "127.0.0.1", 0).toCompletableFuture().join();
    port = binding.localAddress().getPort();
    base = "http://127.0.0.1:" + port;
  }

  @AfterAll
  void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void reset() {
    jobs.submitted.clear();
  }

  private HttpResponse<String> post(String path, HttpRequest.BodyPublisher body) throws Exception {
    var request = HttpRequest.newBuilder(URI.create(base + path))
        .POST(body)
        .header("Content-Type", "application/json")
        .header("x-warmgate-api-key", KEY)
        .header("Authorization", "Bearer " + TestTokens.ADMIN)
        .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  /** Without a length up front: sent with {@code Transfer-Encoding: chunked}. */
  private static HttpRequest.BodyPublisher chunked(String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(bytes));
  }


  /** Valid JSON of about {@code bytes} bytes: a well-formed object whose size alone is the problem. */
  private static String jsonOfSize(int bytes) {
    StringBuilder json = new StringBuilder("{\"padding\":[");
    while (json.length() < bytes) {
      json.append("\"").append("x".repeat(1000)).append("\",");
    }
    return json.append("\"end\"]}").toString();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/v1/notifications/s3", "/v1/notifications/eventbridge"})
  void notificationOverOneMebibyteIs413EvenWhenOtherRoutesTakeMore(String path) throws Exception {
    byte[] body = jsonOfSize(1024 * 1024 + 10).getBytes(StandardCharsets.UTF_8);

    assertRawError(RawHttp.postWithContentLength(port, path, KEY_HEADER, body), 413, "body_too_large");
    assertRawError(RawHttp.postChunked(port, path, KEY_HEADER, body), 413, "body_too_large");
    assertThat(jobs.submitted).isEmpty();
  }

  private static void assertRawError(RawHttp.Response response, int status, String code) throws Exception {
    assertThat(response.status()).as(response.body()).isEqualTo(status);
    JsonNode error = Json.mapper().readTree(response.body()).path("error");
    assertThat(error.path("code").asText()).isEqualTo(code);
    assertThat(error.path("message").asText()).contains("1048576");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/v1/notifications/s3", "/v1/notifications/eventbridge"})
  void notificationJustUnderTheLimitIsRead(String path) throws Exception {
    // Read, then refused for what it says, not for its size.
    assertError(post(path, chunked(jsonOfSize(1000 * 1000))), 400, "invalid_notification");
  }

  @Test
  void otherRoutesTakeBodiesUpToMaxBodyBytes() throws Exception {
    // Past the notification limit but within max-body-bytes: read and judged on its content.
    assertError(post("/v1/jobs", chunked(jsonOfSize(2 * 1024 * 1024))), 400, "invalid_job");
    var tooLarge = RawHttp.postChunked(port, "/v1/jobs", KEY_HEADER, jsonOfSize((int) MAX_BODY_BYTES
        + 10).getBytes(StandardCharsets.UTF_8));
    assertThat(tooLarge.status()).as(tooLarge.body()).isEqualTo(413);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/v1/notifications/s3", "/v1/notifications/eventbridge", "/v1/jobs"})
  void overDeepOrOverlongJsonIs400(String path) throws Exception {
    assertError(post(path, HttpRequest.BodyPublishers.ofString("[".repeat(10_000) + "]".repeat(10_000))), 400,
        "json_limit_exceeded");
    assertError(post(path, HttpRequest.BodyPublishers.ofString("{\"a\":\"" + "x".repeat(300_000) + "\"}")), 400,
        "json_limit_exceeded");
    assertError(post(path, HttpRequest.BodyPublishers.ofString("{\"a\":" + "1".repeat(40) + "}")), 400,
        "json_limit_exceeded");
  }

  @Test
  void ofSeveralUploadsOfOneKeyInAnS3EventOnlyTheNewestStartsAJob() throws Exception {
    String record = """
        {"eventVersion":"2.1","eventSource":"aws:s3","eventTime":"2026-11-20T10:15:30Z","eventName":"ObjectCreated:Put",
         "s3":{"bucket":{"name":"gen3d"},"object":{"key":"users/a/input/x_image.png","size":1,"eTag":"%s",\
        "sequencer":"%s"}}}""";
    String body = "{\"Records\":[" + String.join(",",
        record.formatted("e-newest", "0055AED6DCD90281E6"),
        record.formatted("e-oldest", "0055AED6DCD90281"),
        record.formatted("e-older", "0055aed6dcd90281e5")) + "]}";

    var response = post("/v1/notifications/s3", HttpRequest.BodyPublishers.ofString(body));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonNode report = Json.mapper().readTree(response.body());
    assertThat(report.path("accepted")).hasSize(1);
    assertThat(report.path("skipped")).hasSize(2).allSatisfy(skip ->
        assertThat(skip.path("reason").asText()).contains("superseded"));
    assertThat(jobs.submitted).hasSize(1);
    assertThat(jobs.submitted.values().iterator().next().inputs().values().iterator().next().toString())
        .isEqualTo("s3://gen3d/users/a/input/x_image.png");
  }
}
