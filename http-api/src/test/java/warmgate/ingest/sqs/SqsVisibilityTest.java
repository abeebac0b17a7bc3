package warmgate.ingest.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import warmgate.e2e.Await;
import warmgate.e2e.ElasticMq;
import warmgate.ingest.Ingestion;
import warmgate.ingest.ObjectCreated;
import warmgate.metrics.Metrics;
import warmgate.provider.AsyncResult;

// A real SQS-compatible server (ElasticMQ, its own process) and one consumer loop with the real SDK client; the node
// behind it is an Ingestion whose journal takes longer than the queue's visibility timeout.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SqsVisibilityTest {
  private ElasticMq sqs;
  private SqsAsyncClient client;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    sqs = ElasticMq.start(dir);
    client = SqsAsyncClient.builder().endpointOverride(java.net.URI.create(sqs.endpoint)).region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"))).build();
  }

  @AfterAll
  void stop() {
    timer.shutdownNow();
    if (client != null) {
      client.close();
    }
    if (sqs != null) {
      sqs.close();
    }
  }

  /** Accepts every upload, {@code delay} after it is asked. */
  private record SlowIngestion(Duration delay, AtomicInteger calls) implements Ingestion {
    @Override
    public CompletionStage<Report> ingest(List<ObjectCreated> uploads) {
      calls.incrementAndGet();
      return CompletableFuture.supplyAsync(() -> new Report(uploads.stream()
          .map(u -> new Accepted("job-" + u.key(), u.bucket(), u.key(), false)).toList(), List.of()),
          CompletableFuture.delayedExecutor(delay.toMillis(), TimeUnit.MILLISECONDS));
    }

    @Override
    public Optional<AsyncResult> noticeResult(String message) {
      return Optional.empty();
    }
  }

  @Test
  void aBatchSlowerThanTheVisibilityTimeoutKeepsItsMessagesInvisibleUntilItDeletesThem() throws Exception {
    String queue = sqs.createQueue("slow", Duration.ofSeconds(2), null, 0);
    var defaults = ConfigFactory.parseResources("warmgate.conf").resolve().getConfig("warmgate");
    var settings = SqsSettings.fromConfig(ConfigFactory.parseMap(Map.of(
        "sqs.queues", List.of(Map.of("url", queue, "visibility-timeout", "2s")),
        "sqs.wait-time", "1s")).withFallback(defaults));
    var ingestion = new SlowIngestion(Duration.ofSeconds(7), new AtomicInteger());
    Metrics metrics = new Metrics();
    var consumer = new SqsConsumer(settings, settings.queues().get(0), 0, client, ingestion, change -> List.of(),
        metrics.sqs(), timer, Clock.systemUTC());
    sqs.send(queue, SqsBodies.s3Event("gen3d", "users/a/input/slow_image.png", "%032x".formatted(1)));
    consumer.start();
    try {
      Await.until(Duration.ofSeconds(30), "the consumer to receive the message", () -> ingestion.calls().get() == 1);
      // Three visibility timeouts while its jobs are being accepted: nobody else may receive it meanwhile.
      long until = System.nanoTime() + Duration.ofSeconds(6).toNanos();
      while (System.nanoTime() < until) {
        assertThat(sqs.sqs.receiveMessage(b -> b.queueUrl(queue).waitTimeSeconds(0)).messages())
            .as("a message of the slow batch, received by someone else").isEmpty();
        Thread.sleep(250);
      }
      Await.until(Duration.ofSeconds(30), "the message to be deleted", () -> sqs.depth(queue).total() == 0);
    } finally {
      consumer.close();
    }
    assertThat(ingestion.calls().get()).as("times the message was handed to the node").isEqualTo(1);
    String text = metrics.scrapeText();
    assertThat(SqsConsumerMetrics.sum(text, "warmgate_sqs_messages_total", "outcome", "accepted")).isEqualTo(1);
  }
}
