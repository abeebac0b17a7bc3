package warmgate.ingest.sns;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import warmgate.InvalidInput;
import warmgate.Json;

/**
 * One message Amazon SNS posts to an HTTP(S) subscription, as read from the body, not yet trusted.
 * {@link #parse(byte[])} only checks the shape; {@link SnsVerifier} decides whether SNS really sent it.
 *
 * @param subject null when the publisher gave none (SNS then leaves the field out, and so does the string to sign)
 * @param timestamp exactly as sent: it is part of the string to sign, and SNS writes it with or without milliseconds
 * @param subscribeUrl confirmations only; null for a notification
 * @param token confirmations only; null for a notification
 */
public record SnsMessage(
    Type type,
    String messageId,
    String topicArn,
    String subject,
    String message,
    String timestamp,
    String signatureVersion,
    String signature,
    String signingCertUrl,
    String subscribeUrl,
    String token) {

  /** The three kinds of message, by the word SNS puts in {@code Type} and the {@code x-amz-sns-message-type} header. */
  public enum Type {
    NOTIFICATION("Notification"),
    SUBSCRIPTION_CONFIRMATION("SubscriptionConfirmation"),
    UNSUBSCRIBE_CONFIRMATION("UnsubscribeConfirmation");

    private final String word;

    Type(String word) {
      this.word = word;
    }

    public String word() {
      return word;
    }

    /** The type SNS calls {@code word}, or null. */
    public static Type of(String word) {
      for (Type type : values()) {
        if (type.word.equals(word)) {
          return type;
        }
      }
      return null;
    }
  }

  /**
   * Reads an SNS HTTP(S) delivery body. Throws {@link InvalidInput} (and nothing else) for anything that is
   * not one: not JSON, a duplicated field, a missing or non-string field, an unknown {@code Type}, a
   * {@code Timestamp} that is not an ISO-8601 instant, a {@code Signature} that is not base64.
   */
  public static SnsMessage parse(byte[] body) {
    if (body == null || body.length == 0) {
      throw invalid("invalid_json", "the body is empty; expected an SNS message");
    }
    JsonNode root;
    try {
      // A field sent twice could be read one way here and another way by whoever signed it: refuse it.
      root = Json.untrusted().reader().with(StreamReadFeature.STRICT_DUPLICATE_DETECTION).readTree(body);
    } catch (StreamConstraintsException e) {
      throw invalid("json_limit_exceeded", "the body exceeds a limit on JSON read from outside: "
          + e.getOriginalMessage());
    } catch (JacksonException e) {
      throw invalid("invalid_json", "the body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw invalid("invalid_json", "the body could not be read: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw invalid("invalid_sns_message", "the body must be a JSON object (an SNS message)");
    }
    if (!root.has("Type")) {
      throw invalid("invalid_sns_message", root.has("Records")
          ? "the body is a bare S3 event, not an SNS message: turn raw message delivery off on the subscription, "
              + "since Warmgate verifies the signature SNS adds to its envelope"
          : "the body has no Type; expected an SNS message");
    }
    String typeWord = required(root, "Type");
    Type type = Type.of(typeWord);
    if (type == null) {
      throw invalid("invalid_sns_message", "Type '" + typeWord
          + "' is not Notification, SubscriptionConfirmation or UnsubscribeConfirmation");
    }
    boolean confirmation = type != Type.NOTIFICATION;
    var parsed = new SnsMessage(
        type,
        required(root, "MessageId"),
        required(root, "TopicArn"),
        optional(root, "Subject"),
        required(root, "Message"),
        required(root, "Timestamp"),
        required(root, "SignatureVersion"),
        required(root, "Signature"),
        required(root, "SigningCertURL"),
        confirmation ? required(root, "SubscribeURL") : null,
        confirmation ? required(root, "Token") : null);
    parsed.instant();
    try {
      Base64.getDecoder().decode(parsed.signature);
    } catch (IllegalArgumentException e) {
      throw invalid("invalid_sns_message", "Signature is not base64: " + e.getMessage());
    }
    return parsed;
  }

  /** {@link #timestamp} as an instant; both {@code 2012-04-25T21:49:25.719Z} and {@code 2012-04-25T21:49:25Z} are read.
   * */
  public Instant instant() {
    try {
      return Instant.parse(timestamp);
    } catch (DateTimeParseException e) {
      throw invalid("invalid_sns_message", "Timestamp '" + timestamp + "' is not an ISO-8601 instant");
    }
  }

  /** The decoded {@code Signature}. */
  public byte[] signatureBytes() {
    return Base64.getDecoder().decode(signature);
  }

  /**
   * The bytes SNS signs: {@code name\nvalue\n} for each signed field, in byte order of the names. A
   * notification signs Message, MessageId, Subject (only when present), Timestamp, TopicArn, Type; both
   * confirmations sign Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type.
   */
  public byte[] stringToSign() {
    var s = new StringBuilder(message.length() + 512);
    field(s, "Message", message);
    field(s, "MessageId", messageId);
    if (type == Type.NOTIFICATION) {
      if (subject != null) {
        field(s, "Subject", subject);
      }
      field(s, "Timestamp", timestamp);
    } else {
      field(s, "SubscribeURL", subscribeUrl);
      field(s, "Timestamp", timestamp);
      field(s, "Token", token);
    }
    field(s, "TopicArn", topicArn);
    field(s, "Type", type.word());
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void field(StringBuilder s, String name, String value) {
    s.append(name).append('\n').append(value).append('\n');
  }

  private static String required(JsonNode root, String field) {
    JsonNode value = root.get(field);
    if (value == null || value.isNull()) {
      throw invalid("invalid_sns_message", field + " is missing");
    }
    if (!value.isTextual()) {
      throw invalid("invalid_sns_message", field + " must be a string");
    }
    return value.textValue();
  }

  private static String optional(JsonNode root, String field) {
    return root.has(field) ? required(root, field) : null;
  }

  private static InvalidInput invalid(String code, String message) {
    return new InvalidInput(code, message);
  }
}
