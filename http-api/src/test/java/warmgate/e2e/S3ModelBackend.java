package warmgate.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import warmgate.Json;
import warmgate.ingest.sns.SnsFixture;
import warmgate.provider.sagemaker.SageMakerStandIn;

/**
 * Where the SageMaker stand-in's asynchronous model reads its input and writes its answer: S3Proxy, through the real
 * SDK; and what becomes of the notifications it publishes. With a node set ({@link #deliverTo}) each one is sent as
 * SNS sends it to an HTTP(S) subscription: a Notification signed with the test CA's SNS key, POSTed to the node's
 * {@code /v1/notifications/sns} with the {@code x-amz-sns-*} headers; every delivery and the node's answer are kept.
 * Without one, or for an endpoint whose notifications are lost ({@link #lose}), they are kept undelivered.
 */
final class S3ModelBackend implements SageMakerStandIn.AsyncBackend {

  /** One notification the stand-in published; {@code status} is the node's answer, 0 when it was not delivered. */
  record Delivery(String topicArn, JsonNode message, int status, String answer) {
    String inferenceId() {
      return message.path("inferenceId").asText();
    }
  }

  private final S3Server s3;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final List<Delivery> deliveries = new CopyOnWriteArrayList<>();
  private final Set<String> lost = ConcurrentHashMap.newKeySet();
  private volatile String nodeBase;

  S3ModelBackend(S3Server s3) {
    this.s3 = s3;
  }

  /** {@code http://127.0.0.1:port} of the node subscribed to the topics; null: nothing is delivered. */
  void deliverTo(String base) {
    this.nodeBase = base;
  }

  /** Notifications about invocations of the SageMaker endpoint {@code endpointName} never reach the node. */
  void lose(String endpointName) {
    lost.add(endpointName);
  }

  /** The notifications about this inference (the job id), oldest first. */
  List<Delivery> deliveries(String inferenceId) {
    return deliveries.stream().filter(d -> d.inferenceId().equals(inferenceId)).toList();
  }

  @Override
  public byte[] read(String s3Uri) {
    String[] at = S3Server.split(s3Uri);
    return s3.get(at[0], at[1]).orElseThrow(() -> new IllegalStateException("no object at " + s3Uri));
  }

  @Override
  public void write(String s3Uri, byte[] body, String contentType) {
    String[] at = S3Server.split(s3Uri);
    s3.put(at[0], at[1], body, contentType);
  }

  @Override
  public void publish(String topicArn, String message) {
    JsonNode parsed;
    try {
      parsed = Json.mapper().readTree(message);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String base = nodeBase;
    if (base == null || lost.contains(parsed.path("requestParameters").path("endpointName").asText())) {
      deliveries.add(new Delivery(topicArn, parsed, 0, null));
      return;
    }
    ObjectNode notification = SnsFixture.notification(message);
    notification.put("TopicArn", topicArn);
    notification.put("MessageId", UUID.randomUUID().toString());
    notification.remove("Subject"); // SageMaker publishes its InferenceResult without one
    notification.put("UnsubscribeURL", "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
        + topicArn + ":c9135db0-26c4-47ec-8998-413945fb5a96");
    byte[] body = SnsFixture.bytes(SnsFixture.sign(notification, "2"));
    HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/v1/notifications/sns"))
        .timeout(Duration.ofSeconds(15)) // SNS's own delivery timeout
        .header("Content-Type", "text/plain; charset=UTF-8")
        .header("x-amz-sns-message-type", "Notification")
        .header("x-amz-sns-message-id", notification.path("MessageId").asText())
        .header("x-amz-sns-topic-arn", topicArn)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
    try {
      HttpResponse<String> answer = http.send(request, HttpResponse.BodyHandlers.ofString());
      deliveries.add(new Delivery(topicArn, parsed, answer.statusCode(), answer.body()));
    } catch (IOException e) {
      deliveries.add(new Delivery(topicArn, parsed, -1, e.toString()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
