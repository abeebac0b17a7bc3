package warmgate.ingest.eventbridge;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import warmgate.InvalidInput;
import warmgate.Json;
import warmgate.ingest.ObjectCreated;
import warmgate.ingest.Skip;

/**
 * Parses one event as an EventBridge API destination posts it: the envelope ({@code version, id, detail-type,
 * source, account, time, region, resources, detail}) with the service's own {@code detail}. Two kinds are
 * understood; every other well-formed event is {@link EventBridgeEvent.Ignored}.
 *
 * <ul>
 *   <li>S3's {@code Object Created}: {@code detail.bucket.name}, {@code detail.object.key, size, etag,
 *       version-id, sequencer}. Unlike in S3 event notifications the key is <em>not</em> URL-encoded:
 *       {@code a+b.png} is a key with a plus sign.
 *   <li>SageMaker's {@code SageMaker Endpoint State Change}: {@code detail.EndpointName},
 *       {@code detail.EndpointStatus} (upper case with underscores, {@code IN_SERVICE}), {@code detail.FailureReason}.
 * </ul>
 */
public final class EventBridgeParser {
  public static final String S3_SOURCE = "aws.s3";
  public static final String OBJECT_CREATED = "Object Created";
  public static final String SAGEMAKER_SOURCE = "aws.sagemaker";
  public static final String ENDPOINT_STATE_CHANGE = "SageMaker Endpoint State Change";

  private EventBridgeParser() {}

  public static EventBridgeEvent parse(byte[] body) {
    return parse(Json.readUntrusted(body, "an EventBridge event"));
  }

  public static EventBridgeEvent parse(JsonNode root) {
    if (root == null || !root.isObject()) {
      throw invalid("the body must be a JSON object: one EventBridge event");
    }
    String source = requiredText(root, "source", "source");
    String detailType = requiredText(root, "detail-type", "detail-type");
    String id = text(root, "id");
    if (S3_SOURCE.equals(source) && OBJECT_CREATED.equals(detailType)) {
      return objectCreated(id, root, detail(root));
    }
    if (SAGEMAKER_SOURCE.equals(source) && ENDPOINT_STATE_CHANGE.equals(detailType)) {
      JsonNode detail = detail(root);
      return new EventBridgeEvent.EndpointStateChange(
          id,
          requiredText(detail, "EndpointName", "detail.EndpointName"),
          requiredText(detail, "EndpointStatus", "detail.EndpointStatus"),
          text(detail, "FailureReason"));
    }
    return new EventBridgeEvent.Ignored(id, source, detailType);
  }

  private static EventBridgeEvent objectCreated(String id, JsonNode root, JsonNode detail) {
    String bucket = requiredText(detail.path("bucket"), "name", "detail.bucket.name");
    JsonNode object = detail.path("object");
    String key = requiredText(object, "key", "detail.object.key");
    String versionId = nonEmpty(text(object, "version-id"));
    String eTag = nonEmpty(text(object, "etag"));
    if (versionId == null && eTag == null) {
      return new EventBridgeEvent.Unidentifiable(id, new Skip(bucket, key,
          "the event carries neither a version-id nor an etag, so the upload cannot be identified"));
    }
    JsonNode size = object.get("size");
    if (size != null && !size.isNull() && !(size.isIntegralNumber() && size.canConvertToLong() && size.asLong() >= 0)) {
      throw invalid("detail.object.size must be a whole number of bytes");
    }
    return new EventBridgeEvent.Upload(id, new ObjectCreated(
        bucket, key, versionId, eTag, size == null ? 0 : size.asLong(0), nonEmpty(text(object, "sequencer")),
            time(root)));
  }

  private static JsonNode detail(JsonNode root) {
    JsonNode detail = root.get("detail");
    if (detail == null || !detail.isObject()) {
      throw invalid("detail must be an object");
    }
    return detail;
  }

  /**
   * The envelope's {@code time}: ISO-8601 as EventBridge writes it, or epoch milliseconds as one of
   * SageMaker's documented examples shows; null when absent.
   */
  private static Instant time(JsonNode root) {
    String time = text(root, "time");
    if (time == null) {
      return null;
    }
    if (time.matches("\\d{1,15}")) {
      return Instant.ofEpochMilli(Long.parseLong(time));
    }
    try {
      return Instant.parse(time);
    } catch (DateTimeParseException e) {
      throw invalid("time '" + abbreviate(time) + "' is not an ISO-8601 instant");
    }
  }

  private static String requiredText(JsonNode node, String field, String where) {
    JsonNode value = node.get(field);
    if (value == null || !value.isTextual() || value.asText().isEmpty()) {
      throw invalid(where + " is required and must be a non-empty string");
    }
    return value.asText();
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value != null && value.isValueNode() && !value.isNull() ? value.asText() : null;
  }

  private static String nonEmpty(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }

  private static InvalidInput invalid(String message) {
    return new InvalidInput("invalid_notification", message);
  }
}
