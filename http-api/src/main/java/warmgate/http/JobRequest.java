package warmgate.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import warmgate.InvalidInput;
import warmgate.Json;
import warmgate.auth.Principal;
import warmgate.config.WebhookSettings;
import warmgate.ingest.ObjectPolicy;
import warmgate.job.JobSpec;
import warmgate.job.ObjectRef;
import warmgate.job.Priority;

/**
 * Reads the body of {@code POST /v1/jobs}:
 * {@code {"endpoint", "inputs": {name: "s3://bucket/key"}, "output": "s3://bucket/key", "payload": {...}, "owner",
 * "callbackUrl": "https://...", "requireReview": false, "priority": "interactive" | "batch"}}.
 * Strict on purpose: an unknown field is refused rather than ignored, so a typo does not silently change a job.
 */
final class JobRequest {
  static final int MAX_INPUTS = 16;
  private static final Pattern INPUT_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,63}");
  private static final Set<String> FIELDS =
      Set.of("endpoint", "inputs", "output", "payload", "callbackUrl", "requireReview", "owner", "priority");

  private JobRequest() {}

  /**
   * The job {@code principal} submits. Every object reference follows {@link warmgate.job.ObjectKeys} and
   * {@code objects} (400 naming the field and the rule); an {@code owner} the principal may not submit as, or an
   * object outside its scope, is {@link warmgate.auth.Forbidden} (403).
   */
  static JobSpec parse(byte[] body, Set<String> endpoints, ObjectPolicy objects, Principal principal,
      WebhookSettings webhooks) {
    JsonNode root = Json.readUntrusted(body, "a job as JSON");
    if (root == null || !root.isObject()) {
      throw invalid("invalid_job", "the body must be a JSON object");
    }
    for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!FIELDS.contains(name)) {
        throw invalid("invalid_job", "unknown field '" + name + "'; a job has " + FIELDS);
      }
    }
    String endpoint = requiredText(root, "endpoint");
    if (!endpoints.contains(endpoint)) {
      throw invalid("unknown_endpoint", "endpoint '" + endpoint + "' is not configured; known endpoints: " + endpoints);
    }
    JsonNode inputsNode = root.get("inputs");
    if (inputsNode == null || !inputsNode.isObject() || inputsNode.isEmpty()) {
      throw invalid("invalid_job", "'inputs' must be an object with at least one name: \"s3://bucket/key\" entry");
    }
    if (inputsNode.size() > MAX_INPUTS) {
      throw invalid("invalid_job", "a job may have at most " + MAX_INPUTS + " inputs");
    }
    Map<String, ObjectRef> inputs = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = inputsNode.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> input = it.next();
      if (!INPUT_NAME.matcher(input.getKey()).matches()) {
        throw invalid("invalid_job", "input name '" + input.getKey()
            + "' must be a letter followed by up to 63 letters, digits, _ or -");
      }
      if (!input.getValue().isTextual()) {
        throw invalid("invalid_job", "input '" + input.getKey() + "' must be a string s3://bucket/key");
      }
      inputs.put(input.getKey(), ObjectRef.parse("inputs." + input.getKey(), input.getValue().asText()));
    }
    ObjectRef output = ObjectRef.parse("output", requiredText(root, "output"));
    JsonNode payload = root.get("payload");
    if (payload != null && !payload.isNull() && !payload.isObject()) {
      throw invalid("invalid_job", "'payload' must be a JSON object");
    }
    if (payload != null && payload.isObject()) {
      for (String name : inputs.keySet()) {
        if (payload.has(name)) {
          throw invalid("invalid_job", "payload field '" + name
              + "' would be overwritten by the input of the same name");
        }
      }
    }
    String callbackUrl = null;
    if (root.hasNonNull("callbackUrl")) {
      callbackUrl = requiredText(root, "callbackUrl");
      webhooks.check(callbackUrl);
    }
    JsonNode review = root.get("requireReview");
    if (review != null && !review.isNull() && !review.isBoolean()) {
      throw invalid("invalid_job", "'requireReview' must be true or false");
    }
    String owner = null;
    if (root.hasNonNull("owner")) {
      JsonNode ownerNode = root.get("owner");
      if (!ownerNode.isTextual() || !Principal.validOwner(ownerNode.asText())) {
        throw invalid("invalid_job", "'owner' must be a string of 1-128 characters without '/' or control characters");
      }
      owner = ownerNode.asText();
    }
    Priority priority = Priority.INTERACTIVE;
    if (root.hasNonNull("priority")) {
      JsonNode priorityNode = root.get("priority");
      try {
        priority = Priority.parse(priorityNode.isTextual() ? priorityNode.asText() : priorityNode.toString());
      } catch (IllegalArgumentException e) {
        throw invalid("invalid_job", "'priority' must be \"interactive\" or \"batch\"");
      }
    }
    JobSpec spec = new JobSpec(endpoint, principal.ownerOfSubmission(owner), inputs, output, payload, callbackUrl,
        "http",
        review != null && review.asBoolean(false), priority);
    objects.check(spec);
    // After the 400s: a request that is wrong anyway is told so first, whoever sends it.
    spec.inputs().forEach((name, ref) -> principal.requireInScope("inputs." + name, ref));
    principal.requireInScope("output", spec.output());
    return spec;
  }

  private static String requiredText(JsonNode root, String field) {
    JsonNode value = root.get(field);
    if (value == null || !value.isTextual() || value.asText().isBlank()) {
      throw invalid("invalid_job", "'" + field + "' is required and must be a string");
    }
    return value.asText();
  }

  private static InvalidInput invalid(String code, String message) {
    return new InvalidInput(code, message);
  }
}
