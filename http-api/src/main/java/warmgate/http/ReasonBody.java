package warmgate.http;

import com.fasterxml.jackson.databind.JsonNode;
import warmgate.InvalidInput;
import warmgate.Json;

/**
 * The optional body of a retry, approve or reject: nothing, or {@code {"reason": "..."}}. The reason is kept in
 * the job's journal, so it is bounded and must be text.
 */
final class ReasonBody {
  static final int MAX_REASON_LENGTH = 1000;

  private ReasonBody() {}

  /** The reason, or null when the body is empty or has none. */
  static String parse(byte[] body) {
    if (body.length == 0) {
      return null;
    }
    JsonNode root = Json.readUntrusted(body, "nothing or {\"reason\": \"...\"}");
    if (root == null || !root.isObject()) {
      throw new InvalidInput("invalid_body", "the body must be empty or a JSON object {\"reason\": \"...\"}");
    }
    root.fieldNames().forEachRemaining(name -> {
      if (!name.equals("reason")) {
        throw new InvalidInput("invalid_body", "unknown field '" + name + "'; the body may only have 'reason'");
      }
    });
    JsonNode reason = root.get("reason");
    if (reason == null || reason.isNull()) {
      return null;
    }
    if (!reason.isTextual() || reason.asText().length() > MAX_REASON_LENGTH) {
      throw new InvalidInput("invalid_body", "'reason' must be a string of at most " + MAX_REASON_LENGTH
          + " characters");
    }
    return reason.asText().isBlank() ? null : reason.asText();
  }
}
