package warmgate.ingest.sqs;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.SqsAsyncClientBuilder;
import warmgate.InvalidInput;
import warmgate.ingest.IngestionSource;
import warmgate.ingest.eventbridge.EventBridgeEvent;
import warmgate.ingest.eventbridge.EventBridgeParser;
import warmgate.provider.PushedStates;

/**
 * Uploads announced on SQS queues ({@code warmgate.sqs.queues}): S3 event notifications, SNS envelopes of them, and
 * EventBridge events, consumed by {@code consumers} long-poll loops per queue on every node (docs/api.md#sqs-queues).
 */
public final class SqsSource implements IngestionSource {
  private static final Logger log = LoggerFactory.getLogger(SqsSource.class);

  @Override
  public Started start(Node node) {
    SqsSettings settings = SqsSettings.fromConfig(node.warmgate());
    if (settings.queues().isEmpty()) {
      return Started.nothing();
    }
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "warmgate-sqs");
      thread.setDaemon(true);
      return thread;
    });
    List<AutoCloseable> clients = new ArrayList<>();
    List<SqsConsumer> consumers = new ArrayList<>();
    for (SqsSettings.Queue queue : settings.queues()) {
      SqsAsyncClient client = client(queue, settings);
      clients.add(client);
      for (int i = 0; i < queue.consumers(); i++) {
        consumers.add(new SqsConsumer(settings, queue, i, client, node.ingestion(),
            change -> stateChange(node, change), node.metrics().sqs(), timer, node.clock()));
      }
      log.info("Consuming SQS queue {} ({}) with {} long-poll loop(s), visibility timeout {} s", queue.name(),
          queue.url(), queue.consumers(), queue.visibilityTimeout().toSeconds());
    }
    consumers.forEach(SqsConsumer::start);
    return Started.resource(() -> {
      consumers.forEach(SqsConsumer::close);
      timer.shutdownNow();
      timer.awaitTermination(5, TimeUnit.SECONDS);
      for (AutoCloseable client : clients) {
        client.close();
      }
    });
  }

  /** As the EventBridge route does: the endpoints bound to the SageMaker endpoint describe it at once. */
  private static List<String> stateChange(Node node, EventBridgeEvent.EndpointStateChange change) {
    var pushed = node.pushedStates().stream()
        .filter(p -> p.source().equals(EventBridgeParser.SAGEMAKER_SOURCE)).findFirst();
    if (pushed.isEmpty()) {
      return List.of();
    }
    PushedStates.Change resolved;
    try {
      resolved = pushed.get().resolve(change.endpointName(), change.status(), change.failureReason());
    } catch (IllegalArgumentException e) {
      throw new InvalidInput("invalid_notification", "detail.EndpointStatus '" + change.status()
          + "' is not a status " + pushed.get().platform() + " documents");
    }
    resolved.endpoints().forEach(name -> node.endpoints().providerReported(name, change.status()));
    return resolved.endpoints();
  }

  private static SqsAsyncClient client(SqsSettings.Queue queue, SqsSettings settings) {
    SqsAsyncClientBuilder builder = SqsAsyncClient.builder()
        .httpClientBuilder(NettyNioAsyncHttpClient.builder()
            // A long poll holds its connection for wait-time; every loop needs one of its own.
            .maxConcurrency(Math.max(50, queue.consumers() * 4))
            .readTimeout(settings.waitTime().plusSeconds(20)))
        .region(Region.of(queue.region()));
    queue.endpointOverride().ifPresent(url -> builder.endpointOverride(URI.create(url)));
    if (queue.accessKeyId().isPresent()) {
      builder.credentialsProvider(StaticCredentialsProvider.create(
          AwsBasicCredentials.create(queue.accessKeyId().get(), queue.secretAccessKey().orElseThrow())));
    }
    return builder.build();
  }
}
