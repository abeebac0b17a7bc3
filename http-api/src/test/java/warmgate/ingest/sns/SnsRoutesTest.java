package warmgate.ingest.sns;

import static org.assertj.core.api.Assertions.assertThat;
import static warmgate.http.ApiAssertions.assertError;
import static warmgate.http.ApiAssertions.json;
import static warmgate.ingest.sns.SnsFixture.TOPIC;
import static warmgate.ingest.sns.SnsFixture.confirmation;
import static warmgate.ingest.sns.SnsFixture.notification;
import static warmgate.ingest.sns.SnsFixture.s3Event;
import static warmgate.ingest.sns.SnsFixture.sign;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.gateway.AsyncNotices;
import warmgate.http.Authentication;
import warmgate.http.EndpointRoutes;
import warmgate.http.HttpServer;
import warmgate.http.JobRoutes;
import warmgate.ingest.AsyncResultIntake;
import warmgate.ingest.Ingestion;
import warmgate.ingest.ObjectCreated;
import warmgate.ingest.s3.S3Routes;
import warmgate.job.ObjectRef;
import warmgate.provider.AsyncResult;
import warmgate.provider.sagemaker.InferenceResults;
import warmgate.provider.sagemaker.SageMakerAsyncResults;

// Real HTTP on loopback: POST /v1/notifications/sns with a test CA, a fake certificate fetcher, a recording
// subscription confirmer and a recording Ingestion; no journal, no network.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SnsRoutesTest {
  private final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString(
      "pekko.remote.artery.canonical.port = 0")
      .withFallback(ConfigFactory.load()));
  private final HttpClient http = HttpClient.newHttpClient();
  private final RecordingIngestion ingestion = new RecordingIngestion();
  private SnsFixture.FakeFetcher fetcher;
  private final SnsFixture.RecordingConfirmer confirmer = new SnsFixture.RecordingConfirmer();
  private String base;
  private String closed;

  /**
   * Records every upload it is handed; {@code slow} fails like a journal that did not confirm in time. Results of
   * asynchronous invocations are read by the real intake, with SageMaker's format, and recorded where they would go.
   */
  static final class RecordingIngestion implements Ingestion {
    final List<ObjectCreated> uploads = new CopyOnWriteArrayList<>();
    final List<AsyncResult> noticed = new CopyOnWriteArrayList<>();
    volatile boolean slow;
    private final AsyncResultIntake results = new AsyncResultIntake(List.of(new SageMakerAsyncResults()), Map.of(),
        new AsyncNotices() {
          @Override
          public void resultNoticed(AsyncResult result) {
            noticed.add(result);
          }

          @Override
          public void resultLanded(String endpoint, ObjectRef location) {
            throw new AssertionError("no endpoint has a result path here");
          }
        });

    @Override
    public Optional<AsyncResult> noticeResult(String message) {
      return results.notice(message);
    }

    @Override
    public CompletionStage<Report> ingest(List<ObjectCreated> batch) {
      if (slow) {
        return CompletableFuture.failedFuture(new TimeoutException("Ask timed out"));
      }
      uploads.addAll(batch);
      return CompletableFuture.completedFuture(new Report(
          batch.stream().map(u -> new Accepted("job-" + Math.abs(u.key().hashCode()), u.bucket(), u.key(),
              false)).toList(), List.of()));
    }
  }

  @BeforeAll
  void bind() {
    fetcher = SnsFixture.servingSnsCert();
    base = start(Set.of(TOPIC));
    closed = start(Set.of());
  }

  private String start(Set<String> topics) {
    var sns = new SnsRoutes(SnsFixture.verifier(fetcher, topics), confirmer);
    var server = HttpServer.builder(new JobRoutes(null, null, Set.of(), null), new EndpointRoutes(null),
        new Authentication(TestTokens.authenticator())).notifications(new S3Routes(ingestion),
            sns.into(ingestion)).build();
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
    ingestion.noticed.clear();
    ingestion.slow = false;
    confirmer.visited.clear();
    confirmer.failure = null;
  }

  /** Posts as SNS does: text/plain, with the message type header taken from the body. */
  private HttpResponse<String> deliver(String server, ObjectNode message) throws Exception {
    return post(server, Json.mapper().writeValueAsString(message), "x-amz-sns-message-type",
        message.path("Type").asText());
  }

  private HttpResponse<String> deliver(ObjectNode message) throws Exception {
    return deliver(base, message);
  }

  private HttpResponse<String> post(String server, String body, String... headers) throws Exception {
    var builder = HttpRequest.newBuilder(URI.create(server + "/v1/notifications/sns"))
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "text/plain; charset=UTF-8")
        .header("x-amz-sns-message-id", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324")
        .header("x-amz-sns-topic-arn", TOPIC);
    if (headers.length > 0) {
      builder.headers(headers);
    }
    return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
  }



  @Test
  void signedV1NotificationStartsTheJobOnceItIsPersisted() throws Exception {
    var response = deliver(sign(notification(s3Event("users/a/input/x_image.png")), "1"));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(json(response).path("accepted").get(0).path("key").asText()).isEqualTo("users/a/input/x_image.png");
    assertThat(json(response).path("accepted").get(0).path("duplicate").asBoolean()).isFalse();
    assertThat(json(response).path("skipped")).isEmpty();
    assertThat(ingestion.uploads).extracting(ObjectCreated::key).containsExactly("users/a/input/x_image.png");
  }

  @Test
  void signedV2NotificationStartsTheJob() throws Exception {
    var response = deliver(sign(notification(s3Event("users/a/input/y+z_image.png")), "2"));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(ingestion.uploads).extracting(ObjectCreated::key).containsExactly("users/a/input/y z_image.png");
  }

  @Test
  void sageMakersSuccessNotificationTellsTheJobItNamesToLookForItsAnswer() throws Exception {
    var response = deliver(sign(notification(InferenceResults.SUCCESS).put("Subject", ""), "2"));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(json(response).path("outcome").asText()).isEqualTo("noticed");
    assertThat(json(response).path("jobId").asText()).isEqualTo("11111111-2222-3333-4444-555555555555");
    assertThat(ingestion.noticed).containsExactly(new AsyncResult("11111111-2222-3333-4444-555555555555", true,
        new ObjectRef("bucket", "output_directory/prediction.out"), null));
    assertThat(ingestion.uploads).isEmpty();
  }

  @Test
  void sageMakersErrorNotificationTellsTheJobToo() throws Exception {
    var response = deliver(sign(notification(InferenceResults.ERROR), "1"));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(ingestion.noticed).singleElement().satisfies(r -> {
      assertThat(r.succeeded()).isFalse();
      assertThat(r.failureReason()).startsWith("ClientError: Received server error (500)");
    });
  }

  @Test
  void anInferenceResultNamingNoWarmgateJobIsRefusedWithoutTellingAnyone() throws Exception {
    String foreign = InferenceResults.SUCCESS.replace("11111111-2222-3333-4444-555555555555", "Not/A Job");

    assertError(deliver(sign(notification(foreign), "2")), 400, "invalid_async_result");
    assertThat(ingestion.noticed).isEmpty();
    assertThat(ingestion.uploads).isEmpty();
  }

  @Test
  void aForgedInferenceResultIsRefusedBeforeItIsRead() throws Exception {
    ObjectNode forged = sign(notification(InferenceResults.SUCCESS), "2", SnsFixture.ROGUE_KEYS.getPrivate());

    assertThat(deliver(forged).statusCode()).isEqualTo(403);
    assertThat(ingestion.noticed).isEmpty();
  }

  @Test
  void certificateIsFetchedOnceForTwoMessages() throws Exception {
    String url = SnsFixture.CERT_URL.replace("0123", "cafe");
    fetcher.serve(url, SnsFixture.pem(SnsFixture.SNS_CERT));

    deliver(sign(notification(s3Event("a")).put("SigningCertURL", url), "2"));
    deliver(sign(notification(s3Event("b")).put("SigningCertURL", url), "1"));

    assertThat(ingestion.uploads).extracting(ObjectCreated::key).containsExactly("a", "b");
    assertThat(fetcher.fetched).containsOnlyOnce(URI.create(url));
  }

  @Test
  void s3TestEventViaSnsIsAcknowledgedWithoutAJob() throws Exception {
    var response = deliver(sign(notification(SnsFixture.TEST_EVENT), "2"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response).path("testEvent").asBoolean()).isTrue();
    assertThat(ingestion.uploads).isEmpty();
  }

  @Test
  void subscriptionIsConfirmedAtItsSubscribeUrl() throws Exception {
    ObjectNode message = sign(confirmation("SubscriptionConfirmation"), "1");

    var response = deliver(message);

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(json(response).path("outcome").asText()).isEqualTo("confirmed");
    assertThat(json(response).path("topicArn").asText()).isEqualTo(TOPIC);
    assertThat(confirmer.visited).containsExactly(URI.create(message.path("SubscribeURL").asText()));
  }

  @Test
  void subscribeUrlPointingElsewhereIsNeverVisitedEvenWhenSigned() throws Exception {
    for (String url : List.of("https://evil.com/?Action=ConfirmSubscription&Token=t",
        "https://sns.us-east-1.amazonaws.com@evil.com/?Action=ConfirmSubscription&Token=t",
        "https://sns.us-east-1.amazonaws.com:8443/?Action=ConfirmSubscription&Token=t",
        "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
        "https://sns.us-east-1.amazonaws.com/?Action=Publish&Token=t")) {
      assertError(deliver(sign(confirmation("SubscriptionConfirmation").put("SubscribeURL", url), "2")), 403,
          "untrusted_subscribe_url");
    }
    assertError(deliver(sign(confirmation("SubscriptionConfirmation")
        .put("SubscribeURL", "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=t"), "2")), 403,
            "region_mismatch");

    assertThat(confirmer.visited).isEmpty();
  }

  @Test
  void forgedConfirmationIsNeverVisited() throws Exception {
    ObjectNode forged = sign(confirmation("SubscriptionConfirmation"), "2")
        .put("SubscribeURL", "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + TOPIC
            + "&Token=other");

    assertError(deliver(forged), 403, "invalid_signature");
    assertThat(confirmer.visited).isEmpty();
  }

  @Test
  void failedConfirmationAnswers5xxSoSnsDeliversItAgain() throws Exception {
    confirmer.failure = new SnsUnavailable("confirmation_failed", "SNS answered HTTP 500", true, null);
    assertError(deliver(sign(confirmation("SubscriptionConfirmation"), "2")), 502, "confirmation_failed");

    confirmer.failure = new SnsUnavailable("confirmation_unavailable", "no answer in time", false, null);
    var unreachable = deliver(sign(confirmation("SubscriptionConfirmation"), "2"));
    assertError(unreachable, 503, "confirmation_unavailable");
    assertThat(unreachable.headers().firstValue("Retry-After")).isPresent();
  }

  @Test
  void unsubscribeConfirmationIsVerifiedAndAcknowledged() throws Exception {
    var response = deliver(sign(confirmation("UnsubscribeConfirmation"), "2"));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(json(response).path("outcome").asText()).isEqualTo("acknowledged");
    assertThat(confirmer.visited).isEmpty();
    assertError(deliver(sign(confirmation("UnsubscribeConfirmation"), "2").put("Token", "x")), 403,
        "invalid_signature");
  }

  @Test
  void forgeriesAreRefusedWith403AndNothingIsIngested() throws Exception {
    assertError(deliver(sign(notification(s3Event("a")), "2").put("Message", s3Event("b"))), 403, "invalid_signature");
    assertError(deliver(sign(notification(s3Event("a")), "2").put("Subject", "hi")), 403, "invalid_signature");
    assertError(deliver(sign(notification(s3Event("a")), "2", SnsFixture.ROGUE_KEYS.getPrivate())), 403,
        "invalid_signature");
    assertError(deliver(sign(notification(s3Event("a")), "5")), 403, "unsupported_signature_version");
    assertError(deliver(sign(notification(s3Event("a")).put("SigningCertURL",
        SnsFixture.CERT_URL.replace("https://", "http://")), "2")), 403, "untrusted_certificate_url");
    assertError(deliver(sign(notification(s3Event("a")).put("SigningCertURL",
        "https://sns.us-east-1.amazonaws.com@evil.com/x.pem"), "2")), 403, "untrusted_certificate_url");
    assertError(deliver(sign(notification(s3Event("a")).put("TopicArn", "arn:aws:sns:us-east-1:123456789012:other"),
        "2")), 403, "topic_not_allowed");
    assertError(deliver(sign(notification(s3Event("a")).put("TopicArn",
        "arn:aws:sns:eu-west-1:123456789012:gen3d-uploads"), "2")), 403, "topic_not_allowed");
    assertError(deliver(sign(notification(s3Event("a")).put("Timestamp", "2026-11-22T10:00:00Z"), "2")), 403,
        "stale_message");
    assertError(deliver(sign(notification(s3Event("a")).put("SigningCertURL",
        SnsFixture.CERT_URL.replace("us-east-1", "eu-west-1")), "2")), 403, "region_mismatch");

    assertThat(ingestion.uploads).isEmpty();
  }

  @Test
  void emptyAllowListRefusesEveryMessageAndSaysWhatToConfigure() throws Exception {
    var error = assertError(deliver(closed, sign(notification(s3Event("a")), "2")), 403, "topic_not_allowed");

    assertThat(error.path("message").asText()).contains("warmgate.sns.topic-arns");
    assertError(deliver(closed, sign(confirmation("SubscriptionConfirmation"), "2")), 403, "topic_not_allowed");
    assertThat(ingestion.uploads).isEmpty();
    assertThat(confirmer.visited).isEmpty();
  }

  @Test
  void malformedMessagesAre400AndNothingIsIngested() throws Exception {
    assertError(post(base, "{not json"), 400, "invalid_json");
    assertError(post(base, ""), 400, "invalid_json");
    assertError(post(base, "{\"Type\":\"Notification\"}"), 400, "invalid_sns_message");
    assertError(post(base, s3Event("raw")), 400, "invalid_sns_message");
    ObjectNode missing = sign(notification(s3Event("a")), "2");
    missing.remove("MessageId");
    assertError(deliver(missing), 400, "invalid_sns_message");
    assertError(post(base, Json.mapper().writeValueAsString(sign(notification(s3Event("a")), "2")),
        "x-amz-sns-message-type", "SubscriptionConfirmation"), 400, "invalid_sns_message");
    assertError(deliver(sign(notification("{\"Records\": 3}"), "2")), 400, "invalid_notification");
    assertError(deliver(sign(notification("hello"), "2")), 400, "invalid_json");

    assertThat(ingestion.uploads).isEmpty();
  }

  @Test
  void journalThatDoesNotConfirmInTimeIs503SoSnsRedelivers() throws Exception {
    ingestion.slow = true;

    var response = deliver(sign(notification(s3Event("a")), "2"));

    assertError(response, 503, "unavailable");
    assertThat(response.headers().firstValue("Retry-After")).hasValue("2");
  }

  @Test
  void onlyPostIsAllowed() throws Exception {
    var response = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/notifications/sns")).GET().build(),
        HttpResponse.BodyHandlers.ofString());

    assertError(response, 405, "method_not_allowed");
  }
}
