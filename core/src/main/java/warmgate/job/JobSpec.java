package warmgate.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import warmgate.CborSerializable;

/**
 * What a job has to do: which endpoint runs it, which objects it reads, where its result goes. The model
 * request is {@link #payload()} with every input added as a base64 field under its name.
 *
 * @param endpoint the configured endpoint that runs the job
 * @param owner who the job belongs to (the {@code {user}} of a Gen3D key), or null
 * @param inputs input name to object; the names become payload fields
 * @param output where the model's response is written
 * @param payload extra JSON fields sent to the model, an object (possibly empty)
 * @param callbackUrl where completion is reported, or null
 * @param source what created the job: the triggering object as {@code s3://bucket/key} or {@code http}
 * @param requireReview hold the result in {@code AWAITING_REVIEW} until someone approves or rejects it
 * @param priority its turn within its owner's share of the endpoint; jobs journaled before priorities existed read
 *     as interactive
 * @param warmOnFirstInput while an input is still missing (the image's mask), ask the endpoint to start anyway, so
 *     its cold start overlaps the upload (a route's {@code warm-on-first-input}); absent in older journals: false
 */
public record JobSpec(
    String endpoint,
    String owner,
    Map<String, ObjectRef> inputs,
    ObjectRef output,
    JsonNode payload,
    String callbackUrl,
    String source,
    boolean requireReview,
    Priority priority,
    boolean warmOnFirstInput)
    implements CborSerializable {

  public JobSpec {
    Objects.requireNonNull(endpoint, "endpoint");
    priority = priority == null ? Priority.INTERACTIVE : priority;
    Objects.requireNonNull(output, "output");
    inputs = Collections.unmodifiableMap(new TreeMap<>(Objects.requireNonNull(inputs, "inputs")));
    payload = payload == null || payload.isNull() ? JsonNodeFactory.instance.objectNode() : payload.deepCopy();
    if (!payload.isObject()) {
      throw new IllegalArgumentException("payload must be a JSON object");
    }
  }

  @Override
  public JsonNode payload() {
    // JsonNode is mutable; hand out copies so the spec stays a value.
    return payload.deepCopy();
  }

  /** The payload object with room for the inputs; callers add the base64 fields. */
  public ObjectNode payloadTemplate() {
    return (ObjectNode) payload.deepCopy();
  }

  /** An interactive job that does not warm its endpoint before its inputs are all there. */
  public JobSpec(String endpoint, String owner, Map<String, ObjectRef> inputs, ObjectRef output, JsonNode payload,
      String callbackUrl, String source, boolean requireReview) {
    this(endpoint, owner, inputs, output, payload, callbackUrl, source, requireReview, Priority.INTERACTIVE, false);
  }

  /** A job that does not warm its endpoint before its inputs are all there. */
  public JobSpec(String endpoint, String owner, Map<String, ObjectRef> inputs, ObjectRef output, JsonNode payload,
      String callbackUrl, String source, boolean requireReview, Priority priority) {
    this(endpoint, owner, inputs, output, payload, callbackUrl, source, requireReview, priority, false);
  }

  /** The same job with the route's review, callback, priority and warm-up settings applied. */
  public JobSpec withRouteOptions(boolean requireReview, String callbackUrl, Priority priority,
      boolean warmOnFirstInput) {
    return new JobSpec(endpoint, owner, inputs, output, payload, callbackUrl, source, requireReview, priority,
        warmOnFirstInput);
  }

  /** The same job at another priority. */
  public JobSpec withPriority(Priority priority) {
    return new JobSpec(endpoint, owner, inputs, output, payload, callbackUrl, source, requireReview, priority,
        warmOnFirstInput);
  }

  /** Where the error document goes when the job fails: {@code {base}_error.json} beside the output. */
  public ObjectRef errorOutput() {
    return output.sibling(output.baseName() + "_error.json");
  }
}
