package warmgate.http;

import static org.assertj.core.api.Assertions.assertThat;
import static warmgate.http.ApiAssertions.assertError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.auth.Tokens;
import warmgate.ingest.sns.SnsFixture;
import warmgate.ingest.sns.SnsRoutes;
import warmgate.job.ObjectRef;
import warmgate.node.InProcessNode;

// One real node (Main.init: H2 journal in a temporary folder, sharded entities, read side, real HTTP on loopback)
// with every route a reference can arrive by: raw S3 events, SNS signed by the test CA, EventBridge, POST /v1/jobs.
// Each bad reference is sent through each route; none may become a job, and the node stays healthy.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadReferencesTest {
  private static final String EVENTBRIDGE_KEY = "eb-key-bad-references-41a9";
  private static final String EVENTBRIDGE_HEADER = "x-warmgate-api-key";
  private static final Duration WAIT = Duration.ofSeconds(60);

  private InProcessNode node;

  /**
   * A key that no job may use, as it was uploaded (decoded), and the rule it breaks. Each matches the Gen3D
   * pattern (a route would start a job for it) so that only the reference check stands between it and a job.
   */
  record BadKey(String what, String key, String rule) {
    @Override
    public String toString() {
      return what;
    }
  }

  static List<BadKey> badKeys() {
    return List.of(
        new BadKey("'..' segments", "users/../users/alice/input/dots_image.png", "key-no-dot-segments"),
        new BadKey("a '.' segment", "users/./users/alice/input/dot_image.png", "key-no-dot-segments"),
        new BadKey("an empty segment", "users/alice//users/alice/input/empty_image.png", "key-no-empty-segments"),
        new BadKey("a leading '/'", "/users/alice/input/slash_image.png", "key-no-leading-slash"),
        new BadKey("a NUL", "users/alice/input/nul\u0000x_image.png", "key-no-control-characters"),
        new BadKey("a newline and a forged log line",
            "users/alice/input/x\n2026-12-06 10:00:00,000 INFO  warmgate.Main - forged_image.png",
                "key-no-control-characters"),
        new BadKey("a carriage return", "users/alice/input/cr\rx_image.png", "key-no-control-characters"),
        new BadKey("DEL", "users/alice/input/del\u007fx_image.png", "key-no-control-characters"),
        new BadKey("a C1 control (NEL)", "users/alice/input/nel\u0085x_image.png", "key-no-control-characters"),
        new BadKey("a backslash", "users/alice/input/back\\slash_image.png", "key-no-backslash"),
        new BadKey("more than 1,024 bytes", "users/alice/input/" + "\u00e9".repeat(505) + "_image.png",
            "key-max-1024-bytes"));
  }

  enum NotificationRoute { S3, SNS, EVENTBRIDGE }

  static Stream<Arguments> notificationCases() {
    List<Arguments> cases = new ArrayList<>();
    for (NotificationRoute route : NotificationRoute.values()) {
      for (BadKey key : badKeys()) {
        cases.add(Arguments.of(route, key, encodedForS3(key.key())));
      }
      if (route != NotificationRoute.EVENTBRIDGE) {
        // Only URL-encoded keys can hide a '..' behind %2E or carry bytes that are not UTF-8.
        cases.add(Arguments.of(route, new BadKey("'%2E%2E'-encoded dots", "users/../users/alice/input/enc_image.png",
            "key-no-dot-segments"), "users/%2E%2E/users/alice/input/enc_image.png"));
        cases.add(Arguments.of(route, new BadKey("bytes that are not UTF-8", "users/alice/input/\ufffd_image.png",
            "key-utf8"),
            "users/alice/input/%FF_image.png"));
      }
    }
    return cases.stream();
  }

  @BeforeAll
  void start(@TempDir Path dataDir) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("warmgate.eventbridge.api-key-header", EVENTBRIDGE_HEADER);
    settings.put("warmgate.eventbridge.api-key-sha256", List.of(Tokens.sha256Hex(EVENTBRIDGE_KEY)));
    settings.put("warmgate.endpoints.gen3d.output-prefixes", List.of("users/"));
    settings.put("warmgate.endpoints.gen3d.buckets", List.of("gen3d-extra"));
    var sns = new SnsRoutes(SnsFixture.verifier(SnsFixture.servingSnsCert(), Set.of(SnsFixture.TOPIC)),
        new SnsFixture.RecordingConfirmer());
    node = InProcessNode.start(dataDir, settings, sns, true);
  }

  @AfterAll
  void stop() {
    node.close();
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("notificationCases")
  void notificationWithABadKeyIsAnsweredWithTheRecordSkippedForItsRuleAndStartsNoJob(NotificationRoute route,
      BadKey bad,
      String encoded) throws Exception {
    HttpResponse<String> response = deliver(route, encoded, bad.key());

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonNode report = Json.mapper().readTree(response.body());
    assertThat(report.path("accepted")).as(response.body()).isEmpty();
    assertThat(report.path("skipped")).as(response.body()).hasSize(1);
    assertThat(report.path("skipped").get(0).path("reason").asText()).contains("rule: " + bad.rule());
  }

  /** The fields of a job that name objects, each given a bad reference in turn. */
  static Stream<Arguments> jobCases() {
    List<Arguments> cases = new ArrayList<>();
    for (BadKey bad : badKeys()) {
      cases.add(Arguments.of("inputs.image", bad));
      cases.add(Arguments.of("output", bad));
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("jobCases")
  void jobNamingABadKeyIs400NamingTheFieldAndTheRule(String field, BadKey bad) throws Exception {
    String image = field.equals("inputs.image") ? "s3://gen3d/" + bad.key()
        : "s3://gen3d/users/alice/input/ok_image.png";
    String output = field.equals("output") ? "s3://gen3d/" + bad.key() : "s3://gen3d/users/alice/output/ok.ply";

    var error = assertError(submit(image, output, TestTokens.ADMIN), 400, "invalid_object_uri");

    assertThat(error.path("message").asText()).contains("'" + field + "'").contains("rule: " + bad.rule());
    assertThat(error.path("message").asText()).as("echoed without raw control characters")
        .doesNotContainPattern("\\p{Cntrl}");
  }

  @Test
  void jobNamingABucketTheConfigurationDoesNotKnowIs400() throws Exception {
    var error = assertError(submit("s3://elsewhere/users/alice/input/x_image.png",
        "s3://gen3d/users/alice/output/x.ply",
        TestTokens.ADMIN), 400, "invalid_object_uri");
    assertThat(error.path("message").asText()).contains("'inputs.image'").contains("rule: bucket-known");

    error = assertError(submit("s3://gen3d/users/alice/input/x_image.png", "s3://new-bucket/users/alice/output/x.ply",
        TestTokens.ADMIN), 400, "invalid_object_uri");
    assertThat(error.path("message").asText()).contains("'output'").contains("rule: bucket-known");
  }

  @Test
  void jobWritingOutsideItsEndpointsOutputPrefixesIs400() throws Exception {
    var error = assertError(submit("s3://gen3d/users/alice/input/x_image.png", "s3://gen3d-extra/elsewhere/x.ply",
        TestTokens.ADMIN),
        400, "invalid_object_uri");
    assertThat(error.path("message").asText()).contains("'output'").contains("rule: output-prefix");
  }

  @Test
  void anEndpointsOwnBucketsAreKnown() throws Exception {
    var response = submit("s3://gen3d-extra/users/alice/input/x_image.png",
        "s3://gen3d-extra/users/alice/output/x.ply", TestTokens.ADMIN);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
  }

  @Test
  void afterEveryBadReferenceNothingWasJournaledForThemAndAGoodUploadStillRuns() throws Exception {
    for (NotificationRoute route : NotificationRoute.values()) {
      for (BadKey bad : badKeys()) {
        deliver(route, encodedForS3(bad.key()), bad.key());
      }
    }
    for (BadKey bad : badKeys()) {
      submit("s3://gen3d/" + bad.key(), "s3://gen3d/users/alice/output/ok.ply", TestTokens.ADMIN);
    }
    String good = "users/alice/input/good_image.png";
    node.blobs.put(ObjectRef.parse("s3://gen3d/" + good), new byte[] {1});
    node.blobs.put(ObjectRef.parse("s3://gen3d/users/alice/input/good_mask.png"), new byte[] {2});

    var response = deliver(NotificationRoute.S3, good, good);

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    String jobId = Json.mapper().readTree(response.body()).path("accepted").get(0).path("jobId").asText();
    InProcessNode.await(WAIT, () -> {
      JsonNode job = Json.mapper().readTree(node.send("GET", "/v1/jobs/" + jobId, null, TestTokens.ADMIN).body());
      assertThat(job.path("status").asText()).isEqualTo("SUCCEEDED");
    });
    // The journal itself: the only jobs ever submitted are the good one and those the other tests of this class
    // were meant to accept, none of them with a bad key.
    var audit = node.send("GET", "/v1/audit/events?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z", null,
        TestTokens.ADMIN);
    assertThat(audit.statusCode()).as(audit.body()).isEqualTo(200);
    List<String> submittedKeys = new ArrayList<>();
    for (String line : audit.body().lines().toList()) {
      JsonNode event = Json.mapper().readTree(line);
      if (event.path("type").asText().equals("JobSubmitted")) {
        JsonNode spec = event.path("data").path("spec");
        spec.path("inputs").forEach(ref -> submittedKeys.add(ref.path("key").asText()));
        submittedKeys.add(spec.path("output").path("key").asText());
      }
    }
    assertThat(submittedKeys).contains(good);
    List<String> badOnes = new ArrayList<>(badKeys().stream().map(BadKey::key).toList());
    badOnes.add("users/../users/alice/input/enc_image.png");
    assertThat(submittedKeys).doesNotContainAnyElementsOf(badOnes);
    assertThat(node.send("GET", "/v1/endpoints/gen3d", null, TestTokens.ADMIN).statusCode()).isEqualTo(200);
  }

  private HttpResponse<String> submit(String image, String output, String token) throws Exception {
    ObjectNode job = Json.mapper().createObjectNode();
    job.put("endpoint", "gen3d");
    job.putObject("inputs").put("image", image);
    job.put("output", output);
    return node.send("POST", "/v1/jobs", Json.mapper().writeValueAsString(job), token);
  }

  private HttpResponse<String> deliver(NotificationRoute route, String encodedKey, String key) throws Exception {
    return switch (route) {
      case S3 -> node.send("POST", "/v1/notifications/s3", SnsFixture.s3Event(encodedKey), TestTokens.ADMIN);
      case SNS -> {
        ObjectNode message = SnsFixture.sign(SnsFixture.notification(SnsFixture.s3Event(encodedKey)), "2");
        yield node.post("/v1/notifications/sns", SnsFixture.bytes(message), Map.of(
            "Content-Type", "text/plain; charset=UTF-8",
            "x-amz-sns-message-type", "Notification",
            "x-amz-sns-topic-arn", SnsFixture.TOPIC));
      }
      case EVENTBRIDGE -> node.post("/v1/notifications/eventbridge",
          eventBridgeEvent(key).getBytes(StandardCharsets.UTF_8),
          Map.of("Content-Type", "application/json", EVENTBRIDGE_HEADER, EVENTBRIDGE_KEY));
    };
  }

  /** As S3 writes keys into its events: URL-encoded, a space as '+', '/' left alone. */
  private static String encodedForS3(String key) {
    return URLEncoder.encode(key, StandardCharsets.UTF_8).replace("%2F", "/");
  }

  /** EventBridge's {@code Object Created}: the key as uploaded, not URL-encoded. */
  private static String eventBridgeEvent(String key) throws Exception {
    return """
        {"version":"0","id":"17793124-05d4-b198-2fde-7ededc63b103","detail-type":"Object Created","source":"aws.s3",
        "account":"111122223333","time":"2026-11-23T09:59:58Z","region":"us-east-1","resources":["arn:aws:s3:::gen3d"],
        "detail":{"version":"0","bucket":{"name":"gen3d"},"object":{"key":%s,"size":1,\
        "etag":"0123456789abcdef0123456789abcdef",
        "sequencer":"0055AED6DCD90281E5"},"request-id":"N4N7GDK58NMKJ12R","requester":"111122223333",\
        "reason":"PutObject"}}"""
        .formatted(Json.mapper().writeValueAsString(key));
  }
}
