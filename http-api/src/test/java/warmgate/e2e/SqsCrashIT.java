package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import warmgate.auth.TestTokens;
import warmgate.demo.SampleImages;
import warmgate.ingest.sqs.SqsConsumerMetrics;
import warmgate.job.JobIds;

// Real processes: ElasticMQ, and Warmgate in a child JVM on the H2 file journal consuming its queue, killed with
// SIGKILL while it holds received messages it has not deleted, then started again on the same folder.
class SqsCrashIT {
  private static final int UPLOADS = 150;
  private static final Duration VISIBILITY = Duration.ofSeconds(5);
  private static final Duration WAIT = Duration.ofSeconds(120);

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dataDir; // a failed run keeps the node's log
  private ChildNode node;
  private ElasticMq sqs;

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.close();
    }
    ModelProcesses.killAll(dataDir.resolve("endpoints"));
    if (sqs != null) {
      sqs.close();
    }
  }

  private Path config(int httpPort, String queue) throws Exception {
    Path conf = dataDir.resolve("node.conf");
    Files.writeString(conf, """
        include classpath("application.conf")
        warmgate.data-dir = "%s"
        warmgate.http.port = %d
        pekko.remote.artery.canonical.port = %d
        warmgate.blob-store.local.watch-interval = 0s
        warmgate.endpoint-defaults.status-poll-interval = 200ms
        warmgate.request.acquire-interval = 1s
        warmgate.endpoints.gen3d.max-concurrency = 4
        warmgate.endpoints.gen3d.process.port = %d
        warmgate.endpoints.gen3d.process.command = ["{java}", "-Xmx64m", "-XX:+UseSerialGC", "-cp", "{classpath}",
          "warmgate.demo.DemoModelServer", "--host", "{host}", "--port", "{port}", "--startup-delay", "1s"]
        warmgate.sqs.wait-time = 1s
        warmgate.sqs.queues = [{ url = "%s", endpoint-override = "%s", access-key-id = "test",
          secret-access-key = "test", visibility-timeout = %ds }]
        """.formatted(dataDir, httpPort, Ports.free(), Ports.free(), queue, sqs.endpoint, VISIBILITY.toSeconds())
        + TestTokens.hocon());
    return conf;
  }

  @Test
  void messagesReceivedButNotDeletedWhenTheNodeIsKilledComeBackAndNoUploadIsLost() throws Exception {
    sqs = ElasticMq.start(dataDir.resolve("elasticmq"));
    String deadLetters = sqs.createQueue("crash-dlq");
    String queue = sqs.createQueue("crash", VISIBILITY, deadLetters, 10);
    Path input = dataDir.resolve("buckets/gen3d/users/erin/input");
    List<String> bodies = new ArrayList<>();
    List<String> jobIds = new ArrayList<>();
    for (int i = 0; i < UPLOADS; i++) {
      byte[] image = SampleImages.image(20 + i % 40);
      String eTag = TestNode.md5(image);
      TestNode.upload(input.resolve("c" + i + "_mask.png"), SampleImages.mask(20 + i % 40));
      TestNode.upload(input.resolve("c" + i + "_image.png"), image);
      String key = "users/erin/input/c" + i + "_image.png";
      jobIds.add(JobIds.forUpload("gen3d", key, null, eTag));
      bodies.add("""
          {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
           "s3":{"bucket":{"name":"gen3d"},"object":{"key":"%s","size":%d,"eTag":"%s"}}}]}"""
          .formatted(key, image.length, eTag));
    }
    int httpPort = Ports.free();
    Path conf = config(httpPort, queue);
    Path log = dataDir.resolve("node.log");
    node = ChildNode.start(conf, httpPort, log);
    // Every third upload is reported over HTTP first, so its job exists before any message about it arrives.
    List<String> reportedFirst = new ArrayList<>();
    for (int i = 0; i < UPLOADS; i += 3) {
      Api.Response answer = node.api.post("/v1/notifications/s3", bodies.get(i));
      assertThat(answer.status()).as(node.logTail()).isEqualTo(200);
      reportedFirst.add(jobIds.get(i));
    }

    ExecutorService senders = Executors.newFixedThreadPool(4);
    List<Future<?>> sent = new ArrayList<>();
    for (String body : bodies) {
      sent.add(senders.submit(() -> sqs.send(queue, body)));
    }
    // Kill the node the moment it holds messages it received and has not deleted, after it deleted some.
    ElasticMq.Depth atKill = Await.until(WAIT, "the node to hold undeleted messages (log: " + log + ")", () -> {
      ElasticMq.Depth depth = sqs.depth(queue);
      boolean someDeleted = sent.stream().allMatch(Future::isDone) && depth.total() < UPLOADS;
      return someDeleted && depth.inFlight() > 0 ? depth : null;
    });
    node.kill9();
    senders.shutdown();
    ElasticMq.Depth afterKill = sqs.depth(queue);
    System.out.printf("SqsCrashIT: at the kill %s, after it %s%n", atKill, afterKill);
    assertThat(afterKill.inFlight()).as("messages the dead node received and never deleted").isPositive();

    node = ChildNode.start(conf, httpPort, log);
    Await.until(WAIT, "the queue to be empty (log: " + log + ")", () -> sqs.depth(queue).total() == 0);
    assertThat(sqs.depth(deadLetters).total()).as("dead letters").isZero();
    // No upload is lost, and none became two jobs.
    for (String jobId : jobIds) {
      Await.until(WAIT, "job " + jobId + " to succeed", () -> "SUCCEEDED".equals(node.api.status(jobId)));
      assertThat(node.api.eventTypes(jobId)).as("events of " + jobId).containsOnlyOnce("JobSubmitted", "JobSucceeded");
    }
    String metrics = metrics(httpPort);
    double redelivered = SqsConsumerMetrics.sum(metrics, "warmgate_sqs_receive_count_count", "queue", "crash")
        - SqsConsumerMetrics.sum(metrics, "warmgate_sqs_receive_count_bucket", "queue", "crash", "le", "1.0");
    double duplicates = SqsConsumerMetrics.sum(metrics, "warmgate_sqs_jobs_total", "queue", "crash", "duplicate",
        "true");
    double fresh = SqsConsumerMetrics.sum(metrics, "warmgate_sqs_jobs_total", "queue", "crash", "duplicate",
        "false");
    double accepted = SqsConsumerMetrics.sum(metrics, "warmgate_sqs_messages_total", "queue", "crash", "outcome",
        "accepted");
    System.out.printf("SqsCrashIT: the restarted node received %.0f message(s) again after the visibility timeout; of "
        + "the %.0f it accepted, %.0f found their job already there (duplicates) and %.0f were new%n", redelivered,
        accepted, duplicates, fresh);
    // What the dead node held came back once its visibility timeout was over, to the restarted node.
    assertThat(redelivered).as("messages received a second time").isGreaterThanOrEqualTo(afterKill.inFlight());
    assertThat(duplicates + fresh).isEqualTo(accepted);
    assertThat(fresh).as("jobs the restarted node created").isLessThanOrEqualTo(UPLOADS - reportedFirst.size());
    // A message whose job exists (here at least those reported over HTTP first) is answered as a duplicate.
    assertThat(duplicates).as("messages found to be duplicates").isPositive();
  }

  private static String metrics(int port) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return response.body();
  }
}
