package warmgate.ingest.sqs;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import warmgate.InvalidInput;
import warmgate.Json;
import warmgate.ingest.ObjectCreated;
import warmgate.ingest.Skip;
import warmgate.ingest.eventbridge.EventBridgeEvent;
import warmgate.ingest.eventbridge.EventBridgeParser;
import warmgate.ingest.s3.S3EventParser;
import warmgate.ingest.s3.S3Notification;
import warmgate.ingest.sns.SnsMessage;
import warmgate.provider.AsyncResult;

/**
 * What the body of one SQS message says. A queue may be fed by S3 directly (an S3 event notification), by an SNS
 * topic (its envelope, or with raw message delivery the S3 event itself), or by an EventBridge rule (the event).
 * SNS envelopes are not signature-checked here: whoever may send to the queue is decided by IAM and the queue's
 * policy, not by a signature (docs/api.md#sqs-queues).
 */
public sealed interface SqsBody {

  /** Uploads to route; {@code skipped} are the records that are not uploads, as the S3 route lists them. */
  record Uploads(List<ObjectCreated> uploads, List<Skip> skipped) implements SqsBody {
    public Uploads {
      uploads = List.copyOf(uploads);
      skipped = List.copyOf(skipped);
    }
  }

  /** S3's {@code s3:TestEvent}, sent when a notification configuration is saved. */
  record TestEvent(String bucket) implements SqsBody {}

  /** A platform's notification that an asynchronous invocation ended; its job was told. */
  record Result(AsyncResult result) implements SqsBody {}

  /** EventBridge's {@code SageMaker Endpoint State Change}. */
  record StateChange(EventBridgeEvent.EndpointStateChange change) implements SqsBody {}

  /** A well-formed event Warmgate does not act on (an EventBridge rule broader than needed). */
  record Ignored(String type) implements SqsBody {}

  /** Nothing Warmgate can use: left to the queue's redrive policy, never deleted. */
  record Unusable(String reason) implements SqsBody {}

  /**
   * Reads a message body.
   *
   * @param noticeResult {@link warmgate.ingest.Ingestion#noticeResult}: offered every SNS {@code Message} (and every
   *     raw body) first, as the SNS route does
   */
  static SqsBody read(String body, Function<String, Optional<AsyncResult>> noticeResult) {
    try {
      JsonNode root = Json.readUntrusted(body.getBytes(StandardCharsets.UTF_8), "an SQS message body");
      if (root != null && root.isObject() && root.has("Type") && root.has("TopicArn")) {
        return envelope(SnsMessage.parse(body.getBytes(StandardCharsets.UTF_8)), noticeResult);
      }
      Optional<AsyncResult> result = noticeResult.apply(body);
      if (result.isPresent()) {
        return new Result(result.get());
      }
      return event(root, "the body");
    } catch (InvalidInput e) {
      return new Unusable(e.getMessage());
    }
  }

  private static SqsBody envelope(SnsMessage message, Function<String, Optional<AsyncResult>> noticeResult) {
    if (message.type() != SnsMessage.Type.NOTIFICATION) {
      return new Unusable("an SNS " + message.type().word() + " of topic " + message.topicArn()
          + ": a subscription from another account is confirmed by hand (aws sns confirm-subscription with the "
          + "Token in this message)");
    }
    Optional<AsyncResult> result = noticeResult.apply(message.message());
    if (result.isPresent()) {
      return new Result(result.get());
    }
    JsonNode inner = Json.readUntrusted(message.message().getBytes(StandardCharsets.UTF_8),
        "the SNS Message (an S3 event notification)");
    return event(inner, "the SNS Message of topic " + message.topicArn());
  }

  private static SqsBody event(JsonNode root, String what) {
    if (root == null || !root.isObject()) {
      return new Unusable(what + " is not a JSON object");
    }
    if (root.has("Records") || root.has("Event")) {
      S3Notification notification = S3EventParser.parse(root);
      if (notification instanceof S3Notification.TestEvent test) {
        return new TestEvent(test.bucket());
      }
      var batch = (S3Notification.Batch) notification;
      return new Uploads(batch.uploads(), batch.skipped());
    }
    if (root.has("detail-type")) {
      EventBridgeEvent event = EventBridgeParser.parse(root);
      if (event instanceof EventBridgeEvent.Upload upload) {
        return new Uploads(List.of(upload.upload()), List.of());
      }
      if (event instanceof EventBridgeEvent.Unidentifiable unidentifiable) {
        return new Uploads(List.of(), List.of(unidentifiable.skip()));
      }
      if (event instanceof EventBridgeEvent.EndpointStateChange change) {
        return new StateChange(change);
      }
      var ignored = (EventBridgeEvent.Ignored) event;
      return new Ignored(ignored.source() + " / " + ignored.detailType());
    }
    return new Unusable(what + " is neither an S3 event notification, an SNS notification nor an EventBridge event");
  }
}
