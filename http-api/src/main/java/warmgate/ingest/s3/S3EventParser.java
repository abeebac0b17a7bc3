package warmgate.ingest.s3;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import warmgate.InvalidInput;
import warmgate.Json;
import warmgate.ingest.ObjectCreated;
import warmgate.ingest.Skip;

/**
 * Parses the S3 event notification format (event version 2.x) as S3 posts it to SNS, SQS, Lambda and, through
 * an HTTP subscription, to us. Object keys arrive URL-encoded with {@code +} for a space.
 */
public final class S3EventParser {
  /** More records than S3 ever batches; a larger array is not a notification. */
  public static final int MAX_RECORDS = 1000;

  /** MinIO's bucket notifications: S3's record format (eventVersion 2.0) under this eventSource. */
  static final String MINIO = "minio:s3";
  /** The record versions understood, 2.x; compiled once rather than for each record. */
  private static final Pattern VERSION_2 = Pattern.compile("2(\\.\\d+)*");

  private S3EventParser() {}

  public static S3Notification parse(byte[] body) {
    return parse(Json.readUntrusted(body, "an S3 event notification"));
  }

  public static S3Notification parse(JsonNode root) {
    if (root == null || !root.isObject()) {
      throw invalid("the body must be a JSON object with a Records array or an s3:TestEvent");
    }
    if ("s3:TestEvent".equals(text(root, "Event"))) {
      return new S3Notification.TestEvent(text(root, "Bucket"));
    }
    JsonNode records = root.get("Records");
    if (records == null || !records.isArray()) {
      throw invalid("the body has no Records array and is not an s3:TestEvent");
    }
    if (records.size() > MAX_RECORDS) {
      throw invalid("the body has " + records.size() + " records; at most " + MAX_RECORDS + " are accepted");
    }
    List<ObjectCreated> uploads = new ArrayList<>();
    List<Skip> skipped = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      JsonNode record = records.get(i);
      String where = "Records[" + i + "]";
      if (!record.isObject()) {
        throw invalid(where + " is not an object");
      }
      String source = text(record, "eventSource");
      if (!"aws:s3".equals(source) && !MINIO.equals(source)) {
        throw invalid(where + ".eventSource is " + quoted(source) + ", expected aws:s3 or " + MINIO);
      }
      String version = text(record, "eventVersion");
      if (version == null || !VERSION_2.matcher(version).matches()) {
        throw invalid(where + ".eventVersion is " + quoted(version) + "; only version 2.x is understood");
      }
      JsonNode s3 = record.path("s3");
      String bucket = text(s3.path("bucket"), "name");
      String rawKey = text(s3.path("object"), "key");
      if (bucket == null || bucket.isEmpty()) {
        throw invalid(where + ".s3.bucket.name is missing");
      }
      if (rawKey == null || rawKey.isEmpty()) {
        throw invalid(where + ".s3.object.key is missing");
      }
      String key;
      try {
        key = decodeKey(rawKey);
      } catch (IllegalArgumentException e) {
        throw invalid(where + ".s3.object.key is not validly URL-encoded: " + e.getMessage());
      } catch (CharacterCodingException e) {
        // A well-formed record naming a key no store can hold: skipped with the reason, the others go on.
        skipped.add(new Skip(bucket, rawKey, "the key's bytes are not valid UTF-8 (rule: key-utf8)"));
        continue;
      }
      String eventName = text(record, "eventName");
      if (MINIO.equals(source) && eventName != null && eventName.startsWith("s3:")) {
        // MinIO names events as they are subscribed to (s3:ObjectCreated:Put); S3 drops the s3: prefix.
        eventName = eventName.substring("s3:".length());
      }
      if (eventName == null || !eventName.startsWith("ObjectCreated:")) {
        skipped.add(new Skip(bucket, key, "event " + (eventName == null ? "(unnamed)" : eventName)
            + " is not an upload"));
        continue;
      }
      JsonNode object = s3.path("object");
      String versionId = text(object, "versionId");
      String eTag = text(object, "eTag");
      if ((versionId == null || versionId.isEmpty()) && (eTag == null || eTag.isEmpty())) {
        skipped.add(new Skip(bucket, key,
            "the record carries neither a versionId nor an eTag, so the upload cannot be identified"));
        continue;
      }
      uploads.add(
          new ObjectCreated(
              bucket,
              key,
              versionId,
              eTag,
              object.path("size").asLong(0),
              text(object, "sequencer"),
              eventTime(record, where)));
    }
    return new S3Notification.Batch(uploads, skipped);
  }

  /**
   * S3 URL-encodes keys in notifications and writes a space as {@code +}, as an HTML form would. Strict where
   * {@link java.net.URLDecoder} is lenient: bytes that are not UTF-8 are an error, not a replacement character,
   * so two different raw keys never decode to one.
   *
   * @throws IllegalArgumentException for a {@code %} not followed by two hex digits
   * @throws CharacterCodingException for bytes that are not UTF-8
   */
  public static String decodeKey(String rawKey) throws CharacterCodingException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(rawKey.length());
    for (int i = 0; i < rawKey.length(); i++) {
      char c = rawKey.charAt(i);
      if (c == '+') {
        bytes.write(' ');
      } else if (c == '%') {
        if (i + 2 >= rawKey.length() || Character.digit(rawKey.charAt(i + 1), 16) < 0
            || Character.digit(rawKey.charAt(i + 2), 16) < 0) {
          throw new IllegalArgumentException("'%' at character " + i + " is not followed by two hex digits");
        }
        bytes.write(Character.digit(rawKey.charAt(i + 1), 16) * 16 + Character.digit(rawKey.charAt(i + 2), 16));
        i += 2;
      } else {
        boolean pair = Character.isHighSurrogate(c) && i + 1 < rawKey.length()
            && Character.isLowSurrogate(rawKey.charAt(i + 1));
        if (!pair && Character.isSurrogate(c)) {
          throw new IllegalArgumentException("an unpaired surrogate at character " + i);
        }
        int end = pair ? i + 2 : i + 1;
        byte[] encoded = rawKey.substring(i, end).getBytes(StandardCharsets.UTF_8);
        bytes.write(encoded, 0, encoded.length);
        i = end - 1;
      }
    }
    return StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(bytes.toByteArray()))
        .toString();
  }

  private static Instant eventTime(JsonNode record, String where) {
    String time = text(record, "eventTime");
    if (time == null) {
      return null;
    }
    try {
      return Instant.parse(time);
    } catch (DateTimeParseException e) {
      throw invalid(where + ".eventTime " + quoted(time) + " is not an ISO-8601 instant");
    }
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value != null && value.isValueNode() && !value.isNull() ? value.asText() : null;
  }

  private static String quoted(String s) {
    return s == null ? "missing" : "'" + s + "'";
  }

  private static InvalidInput invalid(String message) {
    return new InvalidInput("invalid_notification", message);
  }
}
