package warmgate.provider.sagemaker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import warmgate.provider.sagemaker.SageMakerStandIn.AsyncBackend;
import warmgate.provider.sagemaker.SageMakerStandIn.AsyncConfig;
import warmgate.provider.sagemaker.SageMakerStandIn.AsyncInvocation;
import warmgate.provider.sagemaker.SageMakerStandIn.Invocation;
import warmgate.provider.sagemaker.SageMakerStandIn.Model;
import warmgate.provider.sagemaker.SageMakerStandIn.Reply;

/**
 * The stand-in's Asynchronous Inference. InvokeEndpointAsync as AWS's API reference gives it
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpointAsync.html): POST
 * {@code /endpoints/{name}/async-invocations} with the {@code X-Amzn-SageMaker-*} headers, answered 202 with
 * {@code {"InferenceId": ...}} and the {@code X-Amzn-SageMaker-OutputLocation} and {@code -FailureLocation} headers.
 * After the processing delay the model reads the input through the {@link AsyncBackend}, and its answer is written to
 * {@code <output path>/<uuid>.out} (or its failure to {@code <failure path>/<uuid>-error.out}) and announced on the
 * success (or error) topic in the shape of "Check prediction results"
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-check-predictions.html).
 */
final class StandInAsync implements AutoCloseable {

  private final SageMakerStandIn standIn;
  private final Map<String, AsyncConfig> configs = new ConcurrentHashMap<>();
  private final List<AsyncInvocation> invocations = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "sagemaker-stand-in-async");
    t.setDaemon(true);
    return t;
  });
  volatile AsyncBackend backend = new MemoryAsyncBackend();
  volatile Duration processingDelay = Duration.ofMillis(200);
  volatile boolean dropNotifications;

  StandInAsync(SageMakerStandIn standIn) {
    this.standIn = standIn;
  }

  void register(String configName, AsyncConfig config) {
    configs.put(configName, config);
  }

  boolean isAsync(String configName) {
    return configs.containsKey(configName);
  }

  List<AsyncInvocation> invocations() {
    return List.copyOf(invocations);
  }

  void invoke(HttpExchange exchange, String endpointName, String configName, Model model) throws IOException {
    AsyncConfig config = configs.get(configName);
    if (config == null) {
      // Ours: SageMaker's wording for an endpoint without an AsyncInferenceConfig is not documented.
      standIn.error(exchange, 400, "ValidationError", "Endpoint " + endpointName + " of account "
          + SageMakerStandIn.ACCOUNT + " is not configured for asynchronous inference.", "application/json");
      return;
    }
    var headers = exchange.getRequestHeaders();
    String input = headers.getFirst("X-Amzn-SageMaker-InputLocation");
    if (input == null) {
      standIn.error(exchange, 400, "ValidationError", "1 validation error detected: Value null at 'inputLocation' "
          + "failed to satisfy constraint: Member must not be null", "application/json");
      return;
    }
    String inferenceId = headers.getFirst("X-Amzn-SageMaker-Inference-Id");
    if (inferenceId == null) {
      inferenceId = UUID.randomUUID().toString();
    }
    String uuid = UUID.randomUUID().toString();
    String output = join(config.outputPath(), uuid + ".out");
    String failure = config.failurePath() == null ? null : join(config.failurePath(), uuid + "-error.out");
    var invocation = new AsyncInvocation(endpointName, inferenceId, input,
        headers.getFirst("X-Amzn-SageMaker-Content-Type"), headers.getFirst("X-Amzn-SageMaker-Accept"),
        headers.getFirst("X-Amzn-SageMaker-Custom-Attributes"),
        integer(headers.getFirst("X-Amzn-SageMaker-InvocationTimeoutSeconds")),
        integer(headers.getFirst("X-Amzn-SageMaker-RequestTTLSeconds")), output, failure, Instant.now());
    invocations.add(invocation);
    exchange.getResponseHeaders().set("X-Amzn-SageMaker-OutputLocation", output);
    if (failure != null) {
      exchange.getResponseHeaders().set("X-Amzn-SageMaker-FailureLocation", failure);
    }
    standIn.json(exchange, 202, standIn.mapper().createObjectNode().put("InferenceId", inferenceId),
        "application/json");
    // The backend of the invocation's time: a test that moves on to a fresh backend must not see this one's answer.
    AsyncBackend to = backend;
    scheduler.schedule(() -> process(invocation, config, model, to), processingDelay.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  private void process(AsyncInvocation invocation, AsyncConfig config, Model model, AsyncBackend backend) {
    byte[] body;
    try {
      body = backend.read(invocation.inputLocation());
    } catch (RuntimeException e) {
      fail(backend, invocation, config, "ClientError: Could not read the input at " + invocation.inputLocation() + ".",
          String.valueOf(e.getMessage()));
      return;
    }
    Reply reply;
    try {
      reply = model.answer(new Invocation(invocation.endpointName(), invocation.contentType(), invocation.accept(),
          body, invocation.inferenceId(), invocation.customAttributes(), null));
    } catch (RuntimeException e) {
      fail(backend, invocation, config, "ServerError: the stand-in's model failed.", String.valueOf(e));
      return;
    }
    answer(backend, invocation, config, reply);
  }

  private void answer(AsyncBackend backend, AsyncInvocation invocation, AsyncConfig config, Reply reply) {
    if (reply instanceof Reply.Answer a) {
      backend.write(invocation.outputLocation(), a.body(), a.contentType());
      ObjectNode message = notification(invocation, "Completed");
      if (invocation.contentType() != null) {
        ((ObjectNode) message.get("requestParameters")).put("contentType", invocation.contentType());
      }
      message.putObject("responseParameters").put("contentType", a.contentType())
          .put("outputLocation", invocation.outputLocation());
      publish(backend, config.successTopic(), message);
    } else if (reply instanceof Reply.ModelFailure f) {
      fail(backend, invocation, config, "ClientError: Received " + (f.originalStatusCode() < 500 ? "client" : "server")
          + " error (" + f.originalStatusCode() + ") from model. See the SageMaker Endpoint logs in your account "
          + "for more information.", f.originalMessage());
    } else if (reply instanceof Reply.ServiceFailure f) {
      fail(backend, invocation, config, f.errorCode() + ": " + f.message(), f.message());
    } else if (reply instanceof Reply.Slow s) {
      scheduler.schedule(() -> answer(backend, invocation, config, s.then()), s.delay().toMillis(),
          TimeUnit.MILLISECONDS);
    } else if (reply instanceof Reply.CutOff) {
      fail(backend, invocation, config, "ServerError: the model's answer was cut off.", "cut off");
    } else {
      throw new IllegalArgumentException("no reply: " + reply);
    }
  }

  private void fail(AsyncBackend backend, AsyncInvocation invocation, AsyncConfig config, String reason,
      String detail) {
    if (invocation.failureLocation() != null) {
      backend.write(invocation.failureLocation(), detail.getBytes(StandardCharsets.UTF_8),
          "text/plain; charset=utf-8");
    }
    ObjectNode message = notification(invocation, "Failed");
    message.put("failureReason", reason);
    publish(backend, config.errorTopic(), message);
  }

  /** The fields every InferenceResult has, in the documented order; the caller adds the rest. */
  private ObjectNode notification(AsyncInvocation invocation, String status) {
    ObjectNode message = standIn.mapper().createObjectNode()
        .put("awsRegion", SageMakerStandIn.REGION)
        .put("eventTime", Instant.now().toString())
        .put("receivedTime", invocation.received().toString())
        .put("invocationStatus", status);
    message.putObject("requestParameters").put("endpointName", invocation.endpointName())
        .put("inputLocation", invocation.inputLocation());
    message.put("inferenceId", invocation.inferenceId())
        .put("eventVersion", "1.0")
        .put("eventSource", "aws:sagemaker")
        .put("eventName", "InferenceResult");
    return message;
  }

  private void publish(AsyncBackend backend, String topicArn, ObjectNode message) {
    if (topicArn == null || dropNotifications) {
      return;
    }
    // The fields SageMaker orders responseParameters after requestParameters and before inferenceId.
    ObjectNode ordered = standIn.mapper().createObjectNode();
    message.fieldNames().forEachRemaining(name -> {
      if (name.equals("inferenceId") && message.has("responseParameters")) {
        ordered.set("responseParameters", message.get("responseParameters"));
      }
      if (!name.equals("responseParameters")) {
        ordered.set(name, message.get(name));
      }
    });
    backend.publish(topicArn, ordered.toString());
  }

  private static String join(String prefix, String name) {
    return prefix.endsWith("/") ? prefix + name : prefix + "/" + name;
  }

  private static Integer integer(String value) {
    return value == null ? null : Integer.valueOf(value);
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
