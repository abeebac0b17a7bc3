package warmgate.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.auth.Tokens;
import warmgate.e2e.ElasticMq;
import warmgate.ingest.sns.SnsFixture;
import warmgate.ingest.sns.SnsRoutes;
import warmgate.ingest.sqs.SqsConsumerMetrics;
import warmgate.job.JobIds;
import warmgate.job.ObjectRef;
import warmgate.node.InProcessNode;
import warmgate.testing.InMemoryBlobStore;

// One real node (Main.init: H2 journal in a temporary folder, sharded entities, read side) with all three
// notification routes on (raw S3 with an admin token, SNS signed by the test CA, EventBridge with its API key) and an
// SQS queue on a real ElasticMQ (its own process) that it consumes. Every upload is delivered three times, each time by
// a route picked at random, all deliveries shuffled together and sent concurrently, as S3's at-least-once delivery and
// a redundant fan-out to several routes would do.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DuplicateDeliveryTest {
  private static final int UPLOADS = 200;
  private static final int DELIVERIES_PER_UPLOAD = 3;
  private static final String EVENTBRIDGE_KEY = "eb-key-duplicates-7c1d";
  private static final String EVENTBRIDGE_HEADER = "x-warmgate-api-key";
  // Only a bound on how long a broken node is waited for; nothing asserts how fast the jobs ran.
  private static final Duration WAIT = Duration.ofSeconds(90);

  private final HttpClient http = HttpClient.newHttpClient();
  private InProcessNode node;
  private ElasticMq sqs;
  private String queue;
  private String deadLetters;
  private InMemoryBlobStore blobs;
  private String base;

  /** SQS: a message on the queue, its body as S3, SNS (raw delivery off) or EventBridge would put it there. */
  enum Route { S3, SNS, EVENTBRIDGE, SQS }

  /** One upload: an object in the bucket whose identity (key and eTag) every route reports alike. */
  record Upload(String key, String eTag) {
    String jobId() {
      return JobIds.forUpload("gen3d", key, null, eTag);
    }
  }

  record Delivery(Upload upload, Route route) {}

  record Answer(Delivery delivery, int status, JsonNode body) {}

  @BeforeAll
  void start(@TempDir Path dataDir, @TempDir Path sqsDir) throws Exception {
    sqs = ElasticMq.start(sqsDir);
    deadLetters = sqs.createQueue("duplicates-dlq");
    queue = sqs.createQueue("duplicates", Duration.ofSeconds(30), deadLetters, 5);
    Map<String, Object> settings = new HashMap<>();
    settings.put("warmgate.sqs.queues", List.of(Map.of("url", queue, "endpoint-override", sqs.endpoint,
        "access-key-id", "test", "secret-access-key", "test")));
    settings.put("warmgate.sqs.wait-time", "1s");
    settings.put("warmgate.eventbridge.api-key-header", EVENTBRIDGE_HEADER);
    settings.put("warmgate.eventbridge.api-key-sha256", List.of(Tokens.sha256Hex(EVENTBRIDGE_KEY)));
    settings.put("warmgate.endpoint-defaults.max-concurrency", 8);
    var sns = new SnsRoutes(SnsFixture.verifier(SnsFixture.servingSnsCert(), Set.of(SnsFixture.TOPIC)),
        new SnsFixture.RecordingConfirmer());
    // The endpoint is in service from the start: this test is about admission, not cold starts.
    node = InProcessNode.start(dataDir, settings, sns, true);
    blobs = node.blobs;
    base = node.base;
  }

  @AfterAll
  void stop() {
    if (node != null) {
      node.close();
    }
    if (sqs != null) {
      sqs.close();
    }
  }

  @Test
  void everyUploadDeliveredThreeTimesAcrossTheRoutesBecomesExactlyOneJobThatSucceedsOnce() throws Exception {
    long seed = Long.getLong("warmgate.duplicates.seed", System.nanoTime());
    String context = "seed " + seed + " (rerun with -Dwarmgate.duplicates.seed=" + seed + ")";
    Random random = new Random(seed);

    List<Upload> uploads = new ArrayList<>();
    for (int i = 0; i < UPLOADS; i++) {
      String prefix = "users/u" + (i % 7) + "/input/b" + i;
      blobs.put(ObjectRef.parse("s3://gen3d/" + prefix + "_image.png"), new byte[] {1});
      blobs.put(ObjectRef.parse("s3://gen3d/" + prefix + "_mask.png"), new byte[] {2});
      uploads.add(new Upload(prefix + "_image.png", "%032x".formatted(0xabc000L + i)));
    }
    List<Delivery> deliveries = new ArrayList<>();
    for (Upload upload : uploads) {
      for (int d = 0; d < DELIVERIES_PER_UPLOAD; d++) {
        deliveries.add(new Delivery(upload, Route.values()[random.nextInt(Route.values().length)]));
      }
    }
    Collections.shuffle(deliveries, random);
    Map<Route, Long> byRoute = new HashMap<>();
    deliveries.forEach(d -> byRoute.merge(d.route(), 1L, Long::sum));

    List<Answer> answers = deliverConcurrently(deliveries);
    long queued = byRoute.getOrDefault(Route.SQS, 0L);

    // Every HTTP delivery was answered 2xx with the upload's job; at most one answer per upload said it was new, and
    // the SQS consumer found the rest new.
    assertThat(answers).as(context).hasSize(UPLOADS * DELIVERIES_PER_UPLOAD - (int) queued);
    Map<String, Integer> fresh = new HashMap<>();
    Set<String> answeredIds = new HashSet<>();
    for (Answer answer : answers) {
      String what = context + ": " + answer.delivery() + " answered " + answer.status() + " " + answer.body();
      assertThat(answer.status()).as(what).isBetween(200, 299);
      JsonNode accepted = answer.body().path("accepted");
      assertThat(accepted).as(what).hasSize(1);
      assertThat(answer.body().path("skipped")).as(what).isEmpty();
      String jobId = accepted.get(0).path("jobId").asText();
      assertThat(jobId).as(what).isEqualTo(answer.delivery().upload().jobId());
      assertThat(accepted.get(0).path("key").asText()).as(what).isEqualTo(answer.delivery().upload().key());
      assertThat(accepted.get(0).has("duplicate")).as(what).isTrue();
      answeredIds.add(jobId);
      fresh.merge(jobId, accepted.get(0).path("duplicate").asBoolean() ? 0 : 1, Integer::sum);
    }
    Set<String> expectedIds = new HashSet<>(uploads.stream().map(Upload::jobId).toList());
    assertThat(expectedIds).as(context).hasSize(UPLOADS);
    assertThat(expectedIds).as(context).containsAll(answeredIds);
    assertThat(fresh).as(context + ": answers with duplicate:false per job").allSatisfy((id,
        n) -> assertThat(n).as(id).isLessThanOrEqualTo(1));

    // The queue: every message deleted (none left, none in the dead-letter queue), each one's job counted once.
    InProcessNode.await(WAIT, () -> {
      String metrics = node.node.metrics().scrapeText();
      assertThat(SqsConsumerMetrics.sum(metrics, "warmgate_sqs_jobs_total")).as(context + ": jobs reached through SQS")
          .isEqualTo(queued);
      assertThat(sqs.depth(queue).total()).as(context + ": messages left on the queue").isZero();
    });
    assertThat(sqs.depth(deadLetters).total()).as(context + ": dead letters").isZero();
    String metrics = node.node.metrics().scrapeText();
    long freshThroughSqs = (long) SqsConsumerMetrics.sum(metrics, "warmgate_sqs_jobs_total", "duplicate", "false");
    long freshOverHttp = fresh.values().stream().mapToLong(Integer::longValue).sum();
    assertThat(freshOverHttp + freshThroughSqs).as(context + ": deliveries that found their job new")
        .isEqualTo(UPLOADS);
    assertThat(SqsConsumerMetrics.sum(metrics, "warmgate_sqs_messages_total", "outcome", "accepted"))
        .as(context).isEqualTo(queued);

    // The read side lists exactly the N jobs, all SUCCEEDED once it has caught up.
    InProcessNode.await(WAIT, () -> {
      List<JsonNode> listed = listJobs();
      assertThat(listed).as(context + ": GET /v1/jobs").hasSize(UPLOADS);
      assertThat(listed).as(context).allSatisfy(job ->
          assertThat(job.path("status").asText()).as(job.toString()).isEqualTo("SUCCEEDED"));
      assertThat(listed.stream().map(job ->
          job.path("jobId").asText()).toList()).as(context).containsExactlyInAnyOrderElementsOf(expectedIds);
    });

    // The journal: one JobSubmitted and one JobSucceeded per job, however many deliveries reached it.
    long submitted = 0;
    long succeeded = 0;
    for (String jobId : expectedIds) {
      HttpResponse<String> response = send("GET", "/v1/jobs/" + jobId + "/events", null, TestTokens.ADMIN);
      assertThat(response.statusCode()).as(context + ": " + response.body()).isEqualTo(200);
      List<String> types = new ArrayList<>();
      Json.mapper().readTree(response.body()).path("events").forEach(e -> types.add(e.path("type").asText()));
      assertThat(types).as(context + ": events of " + jobId).containsOnlyOnce("JobSubmitted", "JobSucceeded");
      submitted += types.stream().filter("JobSubmitted"::equals).count();
      succeeded += types.stream().filter("JobSucceeded"::equals).count();
    }
    assertThat(submitted).as(context).isEqualTo(UPLOADS);
    assertThat(succeeded).as(context).isEqualTo(UPLOADS);

    // The audit stream (read through the node's read-side pool) tells the same: once per job, nothing more.
    HttpResponse<String> audit = send("GET", "/v1/audit/events?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z",
        null, TestTokens.ADMIN);
    assertThat(audit.statusCode()).as(context + ": " + audit.body()).isEqualTo(200);
    Map<String, Long> auditedSucceeded = new HashMap<>();
    for (String line : audit.body().lines().toList()) {
      JsonNode event = Json.mapper().readTree(line);
      if (event.path("entity").asText().equals("Request") && event.path("type").asText().equals("JobSucceeded")) {
        auditedSucceeded.merge(event.path("id").asText(), 1L, Long::sum);
      }
    }
    assertThat(auditedSucceeded.keySet()).as(context + ": audited JobSucceeded").isEqualTo(expectedIds);
    assertThat(auditedSucceeded.values()).as(context).containsOnly(1L);
    System.out.printf("DuplicateDeliveryTest: %s; %d uploads, %d deliveries %s, %d jobs, %d JobSubmitted, %d "
        + "JobSucceeded, %d new through SQS%n",
        context, UPLOADS, deliveries.size(), byRoute, expectedIds.size(), submitted, succeeded, freshThroughSqs);
  }

  private List<Answer> deliverConcurrently(List<Delivery> deliveries) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      List<Future<Answer>> pending = new ArrayList<>();
      for (Delivery delivery : deliveries) {
        pending.add(pool.submit(() -> delivery.route() == Route.SQS ? enqueue(delivery) : deliver(delivery)));
      }
      List<Answer> answers = new ArrayList<>();
      for (Future<Answer> answer : pending) {
        Answer answered = answer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        if (answered != null) {
          answers.add(answered);
        }
      }
      return answers;
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * A message on the queue, in one of the three forms a queue receives an upload in (by the upload's hash); no answer
   * comes back.
   */
  private Answer enqueue(Delivery delivery) {
    Upload upload = delivery.upload();
    String body = switch (Math.floorMod(upload.key().hashCode() + upload.eTag().hashCode(), 3)) {
      case 0 -> s3Event(upload);
      case 1 -> new String(SnsFixture.bytes(SnsFixture.sign(SnsFixture.notification(s3Event(upload)), "2")),
          StandardCharsets.UTF_8);
      default -> eventBridgeEvent(upload);
    };
    sqs.send(queue, body);
    return null;
  }

  private Answer deliver(Delivery delivery) throws Exception {
    Upload upload = delivery.upload();
    HttpRequest.Builder request = switch (delivery.route()) {
      case S3 -> HttpRequest.newBuilder(URI.create(base + "/v1/notifications/s3"))
          .POST(HttpRequest.BodyPublishers.ofString(s3Event(upload)))
          .header("Content-Type", "application/json")
          .header("Authorization", "Bearer " + TestTokens.ADMIN);
      case SNS -> {
        ObjectNode message = SnsFixture.sign(SnsFixture.notification(s3Event(upload)), "2");
        yield HttpRequest.newBuilder(URI.create(base + "/v1/notifications/sns"))
            .POST(HttpRequest.BodyPublishers.ofByteArray(SnsFixture.bytes(message)))
            .header("Content-Type", "text/plain; charset=UTF-8")
            .header("x-amz-sns-message-type", "Notification")
            .header("x-amz-sns-topic-arn", SnsFixture.TOPIC);
      }
      case EVENTBRIDGE -> HttpRequest.newBuilder(URI.create(base + "/v1/notifications/eventbridge"))
          .POST(HttpRequest.BodyPublishers.ofString(eventBridgeEvent(upload)))
          .header("Content-Type", "application/json")
          .header(EVENTBRIDGE_HEADER, EVENTBRIDGE_KEY);
      case SQS -> throw new IllegalArgumentException("SQS deliveries are sent to the queue");
    };
    HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode body = response.body().isEmpty() ? Json.mapper().createObjectNode()
        : Json.mapper().readTree(response.body());
    return new Answer(delivery, response.statusCode(), body);
  }

  /** The S3 event as S3 sends it to a queue or topic: the key URL-encoded, no version (the bucket is unversioned). */
  private static String s3Event(Upload upload) {
    return """
        {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",\
        "eventTime":"2026-11-23T09:59:58.123Z",
        "eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"gen3d",\
        "arn":"arn:aws:s3:::gen3d"},
        "object":{"key":"%s","size":1,"eTag":"%s","sequencer":"0055AED6DCD90281E5"}}}]}"""
        .formatted(URLEncoder.encode(upload.key(), StandardCharsets.UTF_8).replace("%2F", "/"), upload.eTag());
  }

  /** The same upload as EventBridge's {@code Object Created} event: the key as uploaded, the eTag lower-case. */
  private static String eventBridgeEvent(Upload upload) {
    return """
        {"version":"0","id":"17793124-05d4-b198-2fde-7ededc63b103","detail-type":"Object Created","source":"aws.s3",
        "account":"111122223333","time":"2026-11-23T09:59:58Z","region":"us-east-1","resources":["arn:aws:s3:::gen3d"],
        "detail":{"version":"0","bucket":{"name":"gen3d"},"object":{"key":"%s","size":1,"etag":"%s",\
        "sequencer":"0055AED6DCD90281E5"},
        "request-id":"N4N7GDK58NMKJ12R","requester":"111122223333","reason":"PutObject"}}"""
        .formatted(upload.key(), upload.eTag());
  }

  private List<JsonNode> listJobs() throws Exception {
    List<JsonNode> jobs = new ArrayList<>();
    String cursor = null;
    do {
      String path = "/v1/jobs?limit=500" + (cursor == null ? "" : "&cursor=" + URLEncoder.encode(cursor,
          StandardCharsets.UTF_8));
      HttpResponse<String> response = send("GET", path, null, TestTokens.ADMIN);
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      JsonNode page = Json.mapper().readTree(response.body());
      page.path("jobs").forEach(jobs::add);
      cursor = page.path("nextCursor").isNull() || page.path("nextCursor").isMissingNode() ? null
          : page.path("nextCursor").asText();
    } while (cursor != null);
    return jobs;
  }

  private HttpResponse<String> send(String method, String path, String body, String token) throws Exception {
    return node.send(method, path, body, token);
  }
}
