package warmgate.ingest.eventbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static warmgate.http.ApiAssertions.assertError;
import static warmgate.http.ApiAssertions.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import warmgate.Fixtures;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.auth.Tokens;
import warmgate.endpoint.EndpointCommand;
import warmgate.gateway.EndpointStates;
import warmgate.gateway.JobJournal;
import warmgate.http.ApiKeys;
import warmgate.http.Authentication;
import warmgate.http.EndpointRoutes;
import warmgate.http.HttpEdgeTest;
import warmgate.http.HttpServer;
import warmgate.http.JobRoutes;
import warmgate.http.RawHttp;
import warmgate.ingest.Ingestion;
import warmgate.ingest.ObjectCreated;
import warmgate.ingest.s3.S3Routes;
import warmgate.provider.AsyncResult;
import warmgate.provider.PushedStates;
import warmgate.provider.sagemaker.SageMakerPushedStates;

// Real HTTP on loopback: the EventBridge route with a recording Ingestion and EndpointStates behind it; no journal.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public class EventBridgeRoutesTest {
  private static final String KEY = "eb-key-3f9c2a7d1e";
  private static final String HEADER = "x-warmgate-api-key";
  private static final Duration REQUEST_TIMEOUT = Duration.ofMillis(1500);

  private final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.load());
  private final HttpClient http = HttpClient.newHttpClient();
  private final RecordingIngestion ingestion = new RecordingIngestion();
  private final RecordingEndpointStates endpointStates = new RecordingEndpointStates();
  private String base;
  private String unconfiguredBase;

  /** Records every upload; answers as if each became a new job, or as {@code answer} says. */
  public static final class RecordingIngestion implements Ingestion {
    final List<ObjectCreated> uploads = new CopyOnWriteArrayList<>();
    volatile CompletableFuture<Report> answer;

    @Override
    public CompletionStage<Report> ingest(List<ObjectCreated> batch) {
      uploads.addAll(batch);
      if (answer != null) {
        return answer;
      }
      return CompletableFuture.completedFuture(new Report(
          batch.stream().map(u -> new Accepted("s3-" + u.key().hashCode(), u.bucket(), u.key(), false)).toList(),
              List.of()));
    }

    @Override
    public Optional<AsyncResult> noticeResult(String message) {
      throw new AssertionError("EventBridge carries no results of asynchronous invocations");
    }
  }

  /** Records provider reports; everything else is out of this route's reach. */
  public static final class RecordingEndpointStates implements EndpointStates {
    final List<String> reported = new CopyOnWriteArrayList<>();

    @Override
    public Set<String> names() {
      return Set.of("gen3d", "other");
    }

    @Override
    public CompletionStage<EndpointCommand.View> get(String name) {
      throw new AssertionError("not used by the EventBridge route");
    }

    @Override
    public CompletionStage<EndpointCommand.View> start(String name) {
      throw new AssertionError("not used by the EventBridge route");
    }

    @Override
    public CompletionStage<EndpointCommand.View> stop(String name) {
      throw new AssertionError("not used by the EventBridge route");
    }

    @Override
    public void providerReported(String name, String status) {
      reported.add(name + "=" + status);
    }
  }

  @BeforeAll
  void bind() {
    var names = List.<PushedStates>of(new SageMakerPushedStates(Map.of("gen3d-prod", List.of("gen3d"))));
    String hash = HexFormat.of().formatHex(Tokens.sha256(KEY));
    // An old key being rotated out is listed beside the current one.
    var keys = new ApiKeys(HEADER, List.of(Tokens.sha256("old-key"), HexFormat.of().parseHex(hash)),
        "warmgate.eventbridge.api-key-sha256");
    base = start(new EventBridgeRoutes(ingestion, endpointStates, names, keys, REQUEST_TIMEOUT));
    var none = new ApiKeys(HEADER, List.of(), "warmgate.eventbridge.api-key-sha256");
    unconfiguredBase = start(new EventBridgeRoutes(ingestion, endpointStates, names, none, REQUEST_TIMEOUT));
  }

  private String start(EventBridgeRoutes eventBridge) {
    JobJournal journal = jobId -> CompletableFuture.completedFuture(List.of());
    var jobs = new HttpEdgeTest.FakeJobs();
    var server = HttpServer.builder(new JobRoutes(jobs, journal, Set.of("gen3d"), null),
        new EndpointRoutes(endpointStates),
            new Authentication(TestTokens.authenticator()))
        .notifications(new S3Routes(ingestion), eventBridge).maxBodyBytes(1024 * 1024).build();
    var binding = server.start(testKit.system(), "127.0.0.1", 0).toCompletableFuture().join();
    return "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  @AfterAll
  void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void reset() {
    ingestion.uploads.clear();
    ingestion.answer = null;
    endpointStates.reported.clear();
  }

  private HttpResponse<String> post(String body, String... headers) throws Exception {
    return postTo(base, body, headers);
  }

  private HttpResponse<String> postTo(String server, String body, String... headers) throws Exception {
    var builder = HttpRequest.newBuilder(URI.create(server + "/v1/notifications/eventbridge"))
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json");
    if (headers.length > 0) {
      builder.headers(headers);
    }
    return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String fixture(String name) {
    return new String(Fixtures.bytes("eventbridge/" + name));
  }



  @Test
  void objectCreatedSubmitsTheUploadAndAnswersOnceItIsAccepted() throws Exception {
    var response = post(fixture("s3-object-created.json"), HEADER, KEY);

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(ingestion.uploads).containsExactly(new ObjectCreated("gen3d", "users/alice/input/my cat+1_image.png",
        "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e", "b1946ac92492d2347c6235b4d2611184", 5, "00617F08299329D189",
        Instant.parse("2026-11-20T10:15:30Z")));
    JsonNode accepted = json(response).path("accepted");
    assertThat(accepted).hasSize(1);
    assertThat(accepted.get(0).path("key").asText()).as("a plus sign and a space, as uploaded")
        .isEqualTo("users/alice/input/my cat+1_image.png");
    assertThat(accepted.get(0).path("duplicate").asBoolean()).isFalse();
    assertThat(json(response).path("skipped")).isEmpty();
  }

  @Test
  void objectCreatedWithoutEtagOrVersionIsReportedAsSkipped() throws Exception {
    var response = post("""
        {"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"gen3d"},\
        "object":{"key":"users/a/input/x_image.png"}}}""",
        HEADER, KEY);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response).path("skipped").get(0).path("reason").asText()).contains("cannot be identified");
    assertThat(ingestion.uploads).isEmpty();
  }

  @Test
  void sageMakerStateChangeMakesTheMappedEndpointReconcile() throws Exception {
    var response = post(fixture("sagemaker-endpoint-in-service.json"), HEADER, KEY);

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(endpointStates.reported).containsExactly("gen3d=IN_SERVICE");
    assertThat(json(response).path("ignored").asBoolean()).isFalse();
    assertThat(json(response).path("endpoints")).extracting(JsonNode::asText).containsExactly("gen3d");
  }

  @Test
  void sageMakerEndpointNamesMatchWithoutRegardToCase() throws Exception {
    var response = post(fixture("sagemaker-endpoint-in-service.json").replace("\"EndpointName\": \"gen3d-prod\"",
        "\"EndpointName\": \"Gen3D-Prod\""),
        HEADER, KEY);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(endpointStates.reported).containsExactly("gen3d=IN_SERVICE");
  }

  @Test
  void stateChangeOfAnEndpointThatIsNotOursIsAcknowledgedAndIgnored() throws Exception {
    var response = post(fixture("sagemaker-endpoint-in-service.json").replace("gen3d-prod", "someone-elses"), HEADER,
        KEY);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response).path("ignored").asBoolean()).isTrue();
    assertThat(json(response).path("reason").asText()).contains("someone-elses");
    assertThat(endpointStates.reported).isEmpty();
  }

  @Test
  void statusWordSageMakerDoesNotDocumentIs400() throws Exception {
    var error = assertError(post(fixture("sagemaker-endpoint-in-service.json").replace("IN_SERVICE", "WARMING_UP"),
        HEADER, KEY),
        400, "invalid_notification");

    assertThat(error.path("message").asText()).contains("WARMING_UP");
    assertThat(endpointStates.reported).isEmpty();
  }

  @Test
  void otherSourcesAreAcknowledgedAndIgnored() throws Exception {
    var response = post(fixture("ec2-instance-state-change.json"), HEADER, KEY);
    var again = post(fixture("ec2-instance-state-change.json"), HEADER, KEY);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(json(response).path("ignored").asBoolean()).isTrue();
    assertThat(json(response).path("reason").asText()).contains("aws.ec2 / EC2 Instance State-change Notification");
    assertThat(ingestion.uploads).isEmpty();
    assertThat(endpointStates.reported).isEmpty();
  }

  @Test
  void missingOrWrongApiKeyIs401AndNothingIsRead() throws Exception {
    var missing = assertError(post(fixture("s3-object-created.json")), 401, "unauthorized");
    var wrong = assertError(post(fixture("s3-object-created.json"), HEADER, KEY + "x"), 401, "unauthorized");
    assertError(post(fixture("s3-object-created.json"), HEADER, ""), 401, "unauthorized");
    // Checked before the body is parsed: a caller without the key learns nothing about what we accept.
    assertError(post("{not json", HEADER, "guess"), 401, "unauthorized");

    assertThat(missing.path("message").asText()).contains(HEADER);
    assertThat(wrong.path("message").asText()).contains("not accepted");
    assertThat(ingestion.uploads).isEmpty();
  }

  @Test
  void anyConfiguredKeyIsAcceptedAndTheHeaderNameIgnoresCase() throws Exception {
    assertThat(post(fixture("ec2-instance-state-change.json"), "X-Warmgate-Api-Key", KEY).statusCode()).isEqualTo(200);
    assertThat(post(fixture("ec2-instance-state-change.json"), HEADER, "old-key").statusCode()).isEqualTo(200);
  }

  @Test
  void withoutConfiguredKeysTheRouteIs403NamingTheSettingToSet() throws Exception {
    var error = assertError(postTo(unconfiguredBase, fixture("s3-object-created.json"), HEADER, KEY), 403,
        "not_configured");

    assertThat(error.path("message").asText()).contains("warmgate.eventbridge.api-key-sha256");
    assertThat(ingestion.uploads).isEmpty();
  }

  @Test
  void malformedEventsAre400() throws Exception {
    assertError(post("{not json", HEADER, KEY), 400, "invalid_json");
    assertError(post("", HEADER, KEY), 400, "invalid_json");
    assertError(post("{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\"}", HEADER, KEY), 400,
        "invalid_notification");
    assertError(post("[1,2]", HEADER, KEY), 400, "invalid_notification");

    assertThat(ingestion.uploads).isEmpty();
  }

  @Test
  void overDeepJsonIs400() throws Exception {
    String deep = "{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"detail\":" + "[".repeat(5000)
        + "]".repeat(5000) + "}";

    var error = assertError(post(deep, HEADER, KEY), 400, "json_limit_exceeded");

    assertThat(error.path("message").asText()).contains("nesting depth");
  }

  @Test
  void bodyOverOneMebibyteIs413() throws Exception {
    String huge = fixture("s3-object-created.json").replace("\"PutObject\"", "\"" + "x".repeat(1_100_000) + "\"");

    var response = RawHttp.postWithContentLength(URI.create(base).getPort(), "/v1/notifications/eventbridge", HEADER
        + ": " + KEY,
        huge.getBytes(java.nio.charset.StandardCharsets.UTF_8));

    assertThat(response.status()).as(response.body()).isEqualTo(413);
    assertThat(Json.mapper().readTree(response.body()).path("error").path("code").asText()).isEqualTo("body_too_large");
    assertThat(ingestion.uploads).isEmpty();
  }

  @Test
  void journalThatDoesNotConfirmInTimeIs503WithRetryAfter() throws Exception {
    ingestion.answer = CompletableFuture.failedFuture(new TimeoutException("Ask timed out"));

    var response = post(fixture("s3-object-created.json"), HEADER, KEY);

    assertError(response, 503, "unavailable");
    assertThat(response.headers().firstValue("Retry-After")).hasValue("2");
  }

  @Test
  void aSlowerAnswerIsCutOffAtTheRequestTimeoutWith503() throws Exception {
    ingestion.answer = new CompletableFuture<>(); // never completes

    long started = System.nanoTime();
    var response = post(fixture("s3-object-created.json"), HEADER, KEY);
    Duration took = Duration.ofNanos(System.nanoTime() - started);

    assertError(response, 503, "unavailable");
    assertThat(response.headers().firstValue("Retry-After")).hasValue("2");
    assertThat(took).isGreaterThanOrEqualTo(REQUEST_TIMEOUT.minusMillis(100)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void requestTimeoutMustStayBelowEventBridges() {
    var keys = new ApiKeys(HEADER, List.of(), "k");
    var names = List.<PushedStates>of(new SageMakerPushedStates(Map.of()));

    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new EventBridgeRoutes(ingestion, endpointStates, names, keys, Duration.ofSeconds(5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("below EventBridge's 5 s");
  }

  @Test
  void onlyPostIsAllowed() throws Exception {
    var response = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/notifications/eventbridge")).GET().build(),
        HttpResponse.BodyHandlers.ofString());

    assertError(response, 405, "method_not_allowed");
  }

  @Test
  void apiKeysComeFromConfigAsHashes() {
    String hash = HexFormat.of().formatHex(Tokens.sha256(KEY)).toUpperCase();
    var keys = ApiKeys.fromConfig(ConfigFactory.parseString(
        "api-key-header = X-Key\napi-key-sha256 = [\"" + hash + "\"]"), "warmgate.eventbridge");

    assertThat(keys.check(KEY)).isEqualTo(ApiKeys.Verdict.ACCEPTED);
    assertThat(keys.check("other")).isEqualTo(ApiKeys.Verdict.WRONG);
    assertThat(keys.check(null)).isEqualTo(ApiKeys.Verdict.MISSING);
    assertThat(keys.toString()).doesNotContain(hash).doesNotContain(hash.toLowerCase());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ApiKeys.fromConfig(ConfigFactory.parseString(
            "api-key-header = X-Key\napi-key-sha256 = [\"" + KEY + "\"]"), "warmgate.eventbridge"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("warmgate.eventbridge.api-key-sha256")
        .hasMessageNotContaining(KEY);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ApiKeys.fromConfig(ConfigFactory.parseString(
            "api-key-header = \"bad header\"\napi-key-sha256 = []"), "warmgate.eventbridge"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void shippedConfigHasTheRouteClosedUntilAKeyIsSet() {
    var eventbridge = ConfigFactory.load().getConfig("warmgate.eventbridge");
    var keys = ApiKeys.fromConfig(eventbridge, "warmgate.eventbridge");

    assertThat(keys.header()).isEqualTo(HEADER);
    assertThat(keys.configured()).isFalse();
    assertThat(eventbridge.getDuration("request-timeout")).isLessThan(Duration.ofSeconds(5))
        .isGreaterThan(ConfigFactory.load().getDuration("warmgate.http.ask-timeout"));
  }
}
