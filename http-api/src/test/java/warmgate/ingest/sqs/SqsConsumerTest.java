package warmgate.ingest.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.e2e.ElasticMq;
import warmgate.job.JobIds;
import warmgate.job.ObjectRef;
import warmgate.node.InProcessNode;
import warmgate.provider.ProviderState.Status;

// A real SQS-compatible server (ElasticMQ, its own process) and a real node in this JVM (Main.init, H2 journal,
// sharded entities) consuming it with the real AWS SDK client.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SqsConsumerTest {
  private static final Duration WAIT = Duration.ofSeconds(90);

  @TempDir Path dir;
  private ElasticMq sqs;
  private InProcessNode node;
  private int uploads;

  @BeforeAll
  void startSqs(@TempDir Path sqsDir) throws Exception {
    sqs = ElasticMq.start(sqsDir);
  }

  @AfterAll
  void stopSqs() {
    if (sqs != null) {
      sqs.close();
    }
  }

  @AfterEach
  void stopNode() {
    if (node != null) {
      node.close();
      node = null;
    }
  }

  /** A node consuming {@code queueUrl} with a quick retry; {@code extra} overrides the rest. */
  private InProcessNode node(String queueUrl, Duration visibility, boolean inService, Map<String, Object> extra) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("warmgate.sqs.queues", List.of(Map.of(
        "url", queueUrl,
        "endpoint-override", sqs.endpoint,
        "access-key-id", "test",
        "secret-access-key", "test",
        "visibility-timeout", visibility.toSeconds() + "s")));
    settings.put("warmgate.sqs.retry-min", "1s");
    settings.put("warmgate.sqs.retry-max", "2s");
    settings.put("warmgate.sqs.backoff-max", "2s");
    settings.put("warmgate.sqs.wait-time", "1s");
    settings.put("warmgate.endpoint-defaults.max-concurrency", 4);
    settings.putAll(extra);
    node = InProcessNode.start(dir.resolve("node"), settings, null, inService);
    return node;
  }

  /** A new upload in the node's bucket (image and mask), whose job succeeds once it runs. */
  private record Upload(String key, String eTag) {
    String jobId() {
      return JobIds.forUpload("gen3d", key, null, eTag);
    }
  }

  private Upload upload() {
    int i = uploads++;
    String prefix = "users/u" + (i % 3) + "/input/q" + i;
    node.blobs.put(ObjectRef.parse("s3://gen3d/" + prefix + "_image.png"), new byte[] {1});
    node.blobs.put(ObjectRef.parse("s3://gen3d/" + prefix + "_mask.png"), new byte[] {2});
    return new Upload(prefix + "_image.png", "%032x".formatted(0x5150000L + i));
  }

  @Test
  void startsJobsFromS3EventsSnsEnvelopesAndEventBridgeEventsAndDeletesEveryMessage() throws Exception {
    String dlq = sqs.createQueue("formats-dlq");
    String queue = sqs.createQueue("formats", Duration.ofSeconds(30), dlq, 3);
    node(queue, Duration.ofSeconds(30), true, Map.of());
    List<Upload> expected = new ArrayList<>();
    Upload direct = upload();
    sqs.send(queue, SqsBodies.s3Event("gen3d", direct.key(), direct.eTag())); // S3 → SQS, or SNS with raw delivery
    Upload enveloped = upload();
    sqs.send(queue, SqsBodies.snsEnvelope(SqsBodies.s3Event("gen3d", enveloped.key(), enveloped.eTag())));
    Upload bridged = upload();
    sqs.send(queue, SqsBodies.eventBridge("gen3d", bridged.key(), bridged.eTag()));
    Upload bridgedThroughSns = upload();
    sqs.send(queue, SqsBodies.snsEnvelope(SqsBodies.eventBridge("gen3d", bridgedThroughSns.key(),
        bridgedThroughSns.eTag())));
    sqs.send(queue, SqsBodies.TEST_EVENT);
    sqs.send(queue, SqsBodies.snsEnvelope(SqsBodies.TEST_EVENT));
    sqs.send(queue, """
        {"version":"0","id":"9","detail-type":"Object Deleted","source":"aws.s3","detail":{}}""");
    expected.addAll(List.of(direct, enveloped, bridged, bridgedThroughSns));

    InProcessNode.await(WAIT, () -> {
      for (Upload upload : expected) {
        assertThat(status(upload.jobId())).as(upload.key()).isEqualTo("SUCCEEDED");
      }
      assertThat(sqs.depth(queue).total()).as("messages left on the queue").isZero();
    });
    assertThat(sqs.depth(dlq).total()).isZero();
    String metrics = node.node.metrics().scrapeText();
    assertThat(metric(metrics, "warmgate_sqs_received_total", "queue", "formats")).isEqualTo(7);
    assertThat(metric(metrics, "warmgate_sqs_messages_total", "queue", "formats", "outcome", "accepted")).isEqualTo(4);
    assertThat(metric(metrics, "warmgate_sqs_messages_total", "queue", "formats", "outcome", "test_event"))
        .isEqualTo(2);
    assertThat(metric(metrics, "warmgate_sqs_messages_total", "queue", "formats", "outcome", "ignored")).isEqualTo(1);
    assertThat(metric(metrics, "warmgate_sqs_jobs_total", "queue", "formats", "duplicate", "false")).isEqualTo(4);
    assertThat(metric(metrics, "warmgate_sqs_lag_seconds_count", "queue", "formats")).isEqualTo(7);
  }

  @Test
  void aPoisonMessageReachesTheDeadLetterQueueAfterMaxReceiveCountAndNothingIsLost() throws Exception {
    String dlq = sqs.createQueue("poison-dlq");
    String queue = sqs.createQueue("poison", Duration.ofSeconds(2), dlq, 3);
    node(queue, Duration.ofSeconds(2), true, Map.of());
    List<String> poison = List.of(
        "this is not JSON",
        SqsBodies.snsEnvelope("{\"neither\": \"an S3 event\"}"),
        // No route takes bucket "elsewhere": unroutable, so not deleted either.
        SqsBodies.s3Event("elsewhere", "users/u1/input/x_image.png", "%032x".formatted(7)));
    List<Upload> good = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      good.add(upload());
    }
    sqs.send(queue, poison.get(0));
    sqs.send(queue, SqsBodies.s3Event("gen3d", good.get(0).key(), good.get(0).eTag()));
    sqs.send(queue, poison.get(1));
    sqs.send(queue, SqsBodies.snsEnvelope(SqsBodies.s3Event("gen3d", good.get(1).key(), good.get(1).eTag())));
    sqs.send(queue, poison.get(2));
    sqs.send(queue, SqsBodies.eventBridge("gen3d", good.get(2).key(), good.get(2).eTag()));

    InProcessNode.await(WAIT, () -> {
      assertThat(sqs.depth(dlq).visible()).as("messages in the dead-letter queue").isEqualTo(poison.size());
      assertThat(sqs.depth(queue).total()).as("messages left on the queue").isZero();
    });
    for (Upload upload : good) {
      InProcessNode.await(WAIT, () -> assertThat(status(upload.jobId())).as(upload.key()).isEqualTo("SUCCEEDED"));
    }
    // Nothing lost: every message sent is a job or waits, unchanged, in the dead-letter queue.
    assertThat(sqs.drain(dlq)).containsExactlyInAnyOrderElementsOf(poison);
    String metrics = node.node.metrics().scrapeText();
    // Each poison message was received maxReceiveCount (3) times and left every time, never deleted.
    assertThat(metric(metrics, "warmgate_sqs_messages_total", "queue", "poison", "outcome", "invalid")).isEqualTo(6);
    assertThat(metric(metrics, "warmgate_sqs_messages_total", "queue", "poison", "outcome", "unroutable"))
        .isEqualTo(3);
    assertThat(metric(metrics, "warmgate_sqs_messages_total", "queue", "poison", "outcome", "accepted")).isEqualTo(3);
    // The receive counts show it coming: three receives of each poison message had a count above 1.
    double upToOne = metric(metrics, "warmgate_sqs_receive_count_bucket", "queue", "poison", "le", "1.0");
    double all = metric(metrics, "warmgate_sqs_receive_count_count", "queue", "poison");
    assertThat(all - upToOne).isEqualTo(6);
  }

  @Test
  void anOverloadedNodeLeavesMessagesOnTheQueueAndAcceptsThemOnceItHasRoom() throws Exception {
    String dlq = sqs.createQueue("overload-dlq");
    String queue = sqs.createQueue("overload", Duration.ofSeconds(30), dlq, 100);
    // The endpoint never comes into service until the test says so: at most two jobs wait for it, more are refused.
    node(queue, Duration.ofSeconds(30), false, Map.of(
        "warmgate.endpoint-defaults.max-queued", 2,
        "warmgate.http.queue-check-interval", "50ms",
        "warmgate.http.busy-retry-after", "1s"));
    List<Upload> sent = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      Upload upload = upload();
      sent.add(upload);
      sqs.send(queue, SqsBodies.s3Event("gen3d", upload.key(), upload.eTag()));
    }
    InProcessNode.await(WAIT, () -> {
      String metrics = node.node.metrics().scrapeText();
      assertThat(metric(metrics, "warmgate_sqs_messages_total", "queue", "overload", "outcome", "busy"))
          .as("messages the busy node refused").isGreaterThanOrEqualTo(6);
    });
    assertThat(sqs.depth(queue).total()).as("refused messages stay on the queue").isGreaterThan(0);
    assertThat(node.provider.status()).isNotEqualTo(Status.IN_SERVICE);

    node.provider.set(Status.IN_SERVICE);
    InProcessNode.await(WAIT, () -> {
      for (Upload upload : sent) {
        assertThat(status(upload.jobId())).as(upload.key()).isEqualTo("SUCCEEDED");
      }
      assertThat(sqs.depth(queue).total()).as("messages left on the queue").isZero();
    });
    assertThat(sqs.depth(dlq).total()).isZero();
    String metrics = node.node.metrics().scrapeText();
    assertThat(metric(metrics, "warmgate_sqs_messages_total", "queue", "overload", "outcome", "accepted"))
        .isEqualTo(8);
    assertThat(metric(metrics, "warmgate_sqs_jobs_total", "queue", "overload", "duplicate", "false")).isEqualTo(8);
  }

  private String status(String jobId) throws Exception {
    var response = node.send("GET", "/v1/jobs/" + jobId, null, TestTokens.ADMIN);
    assertThat(response.statusCode()).as(jobId + ": " + response.body()).isEqualTo(200);
    JsonNode job = Json.mapper().readTree(response.body());
    return job.path("status").asText();
  }

  private static double metric(String text, String name, String... labels) {
    return SqsConsumerMetrics.sum(text, name, labels);
  }
}
