package warmgate.provider.sagemaker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The stand-in's inference components: DescribeInferenceComponent and UpdateInferenceComponentRuntimeConfig in the
 * shapes of AWS's API reference
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeInferenceComponent.html,
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateInferenceComponentRuntimeConfig.html). A copy
 * count raised or lowered leaves the component {@code Updating} until {@code copyDelay} has passed, then
 * {@code InService} with the new count. Every method is called under the stand-in's lock.
 *
 * <p>The not-found and update-in-progress messages are ours, modelled on SageMaker's wording for endpoints.
 */
final class StandInComponents {

  static final class Component {
    final String name;
    final String endpointName;
    final Instant creationTime = Instant.now();
    String status = "InService";
    int desired;
    int current;
    String failureReason;
    Instant lastModified = creationTime;
    long phaseSinceNanos = System.nanoTime();
    boolean forced;

    Component(String name, String endpointName) {
      this.name = name;
      this.endpointName = endpointName;
    }
  }

  private final SageMakerStandIn standIn;
  private final Map<String, Component> components = new HashMap<>();
  Duration copyDelay = Duration.ofMillis(300);

  StandInComponents(SageMakerStandIn standIn) {
    this.standIn = standIn;
  }

  void add(String name, String endpointName) {
    components.put(name, new Component(name, endpointName));
  }

  void force(String name, String status, int current, int desired, String failureReason) {
    Component c = components.computeIfAbsent(name, n -> new Component(n, "forced-endpoint"));
    c.status = status;
    c.current = current;
    c.desired = desired;
    c.failureReason = failureReason;
    c.forced = true;
    c.lastModified = Instant.now();
    c.phaseSinceNanos = System.nanoTime();
  }

  /** The component after any transition whose time has come; null when there is none of that name. */
  Component current(String name, boolean paused) {
    Component c = components.get(name);
    if (c == null || paused || c.forced) {
      return c;
    }
    if (c.status.equals("Updating") && System.nanoTime() - c.phaseSinceNanos >= copyDelay.toNanos()) {
      c.current = c.desired;
      c.status = "InService";
      c.lastModified = Instant.now();
      c.phaseSinceNanos = System.nanoTime();
    }
    return c;
  }

  void settleAll(boolean paused) {
    Map.copyOf(components).keySet().forEach(name -> current(name, paused));
  }

  void resume(long now) {
    components.values().forEach(c -> c.phaseSinceNanos = now);
  }

  void describe(HttpExchange exchange, String name, boolean paused) throws IOException {
    Component c = current(name, paused);
    if (c == null) {
      standIn.error(exchange, 400, "ValidationException", "Could not find inference component \"" + arn(name)
          + "\".", SageMakerStandIn.JSON_11);
      return;
    }
    ObjectNode reply = standIn.mapper().createObjectNode()
        .put("InferenceComponentName", c.name)
        .put("InferenceComponentArn", arn(c.name))
        .put("EndpointName", c.endpointName)
        .put("EndpointArn", SageMakerStandIn.arn(c.endpointName))
        .put("VariantName", "AllTraffic")
        .put("InferenceComponentStatus", c.status)
        .put("CreationTime", SageMakerStandIn.epochSeconds(c.creationTime))
        .put("LastModifiedTime", SageMakerStandIn.epochSeconds(c.lastModified));
    reply.putObject("RuntimeConfig").put("DesiredCopyCount", c.desired).put("CurrentCopyCount", c.current);
    if (c.failureReason != null) {
      reply.put("FailureReason", c.failureReason);
    }
    standIn.json(exchange, 200, reply, SageMakerStandIn.JSON_11);
  }

  void update(HttpExchange exchange, String name, int copies, boolean paused) throws IOException {
    Component c = current(name, paused);
    if (c == null) {
      standIn.error(exchange, 400, "ValidationException", "Could not find inference component \"" + arn(name)
          + "\".", SageMakerStandIn.JSON_11);
      return;
    }
    if (c.status.equals("Updating") || c.status.equals("Creating") || c.status.equals("Deleting")) {
      standIn.error(exchange, 400, "ValidationException", "Cannot update in-progress inference component \""
          + arn(name) + "\".", SageMakerStandIn.JSON_11);
      return;
    }
    c.forced = false;
    c.desired = copies;
    c.failureReason = null;
    c.lastModified = Instant.now();
    c.phaseSinceNanos = System.nanoTime();
    if (c.current != copies) {
      c.status = "Updating";
    }
    standIn.json(exchange, 200, standIn.mapper().createObjectNode().put("InferenceComponentArn", arn(name)),
        SageMakerStandIn.JSON_11);
  }

  static String arn(String name) {
    return "arn:aws:sagemaker:" + SageMakerStandIn.REGION + ":" + SageMakerStandIn.ACCOUNT + ":inference-component/"
        + name.toLowerCase(Locale.ROOT);
  }
}
