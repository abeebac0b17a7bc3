package warmgate.provider.sagemaker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local stand-in for Amazon SageMaker that the real AWS SDK v2 clients talk to over loopback HTTP: the
 * control plane (CreateEndpoint, DescribeEndpoint, DeleteEndpoint in the AWS JSON 1.1 protocol) and the
 * runtime (InvokeEndpoint in REST-JSON), with AWS's error shapes, so that the SDK's own parsing and error
 * mapping are exercised rather than assumed.
 *
 * <p>Endpoints go Creating to InService after {@link #creationDelay(Duration)} and Deleting to gone after
 * {@link #deletionDelay(Duration)}; {@link #pauseTransitions()} holds them where they are so a test can see
 * the in-between states without racing a clock. What the model answers is a {@link Model} the test plugs in.
 * Requests without a SigV4 {@code Authorization} header are refused with 403, so passing tests prove the
 * SDK signed. The signature itself is not checked.
 *
 * <p>Where SageMaker's exact wording is known (not-found and already-exists messages, the runtime's
 * not-found message, an inference component's no-capacity answer, the capacity failure of an endpoint) it is
 * copied; refusing to delete an endpoint in progress is modelled on reports that a Creating endpoint cannot be
 * deleted, in wording of our own.
 *
 * <p>Beyond real-time endpoints it serves asynchronous inference ({@link StandInAsync}: InvokeEndpointAsync, the
 * model reading and writing S3 through a pluggable {@link AsyncBackend}, SNS notifications), inference components
 * ({@link StandInComponents}: UpdateInferenceComponentRuntimeConfig, DescribeInferenceComponent, and invocations
 * naming a component, answered "no capacity" while it has no copy), and endpoints that fail for capacity
 * ({@link #capacityShortage}). Every simulated delay is settable: creation, deletion, copy provisioning, async
 * processing.
 */
public final class SageMakerStandIn implements AutoCloseable {

  public static final String ACCOUNT = "123456789012";
  public static final String REGION = "us-east-1";
  public static final String ACCESS_KEY_ID = "AKIDSTANDIN";
  public static final String SECRET_ACCESS_KEY = "stand-in-secret";

  static final String JSON_11 = "application/x-amz-json-1.1";
  private static final Pattern INVOCATIONS = Pattern.compile("^/endpoints/([^/]+)/invocations$");
  private static final Pattern ASYNC_INVOCATIONS = Pattern.compile("^/endpoints/([^/]+)/async-invocations$");

  /**
   * The FailureReason of an endpoint whose EndpointConfig found no capacity, as SageMaker words it for
   * InsufficientInstanceCapacity.
   */
  public static final String CAPACITY_REASON = "Unable to provision requested ML compute capacity due to "
      + "InsufficientInstanceCapacity error. Please retry using a different ML instance type or after some time.";

  /** SageMaker's ValidationError for an inference component without a copy to serve (scaled to zero). */
  public static final String NO_CAPACITY = "Inference Component has no capacity to process this request. "
      + "ApplicationAutoScaling may be in-progress (if configured) or try to increase the capacity by invoking "
      + "UpdateInferenceComponentRuntimeConfig API.";
  private static final Set<String> STATUSES = Set.of(
      "Creating", "Updating", "SystemUpdating", "RollingBack", "InService", "Deleting", "Failed",
          "UpdateRollbackFailed",
      "OutOfService");
  private static final Set<String> IN_PROGRESS = Set.of("Creating", "Updating", "SystemUpdating", "RollingBack",
      "Deleting");

  // ---- What the model does

  /**
   * One invocation as the model sees it, real-time or asynchronous.
   *
   * @param inferenceId the {@code X-Amzn-SageMaker-Inference-Id} sent, or null
   * @param customAttributes the {@code X-Amzn-SageMaker-Custom-Attributes} sent, or null
   * @param inferenceComponent the component named, or null
   */
  public record Invocation(String endpointName, String contentType, String accept, byte[] body, String inferenceId,
      String customAttributes, String inferenceComponent) {
    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** How the stand-in answers an invocation. */
  public sealed interface Reply {
    /** The model answered; SageMaker passes its body and content type through. */
    record Answer(String contentType, byte[] body) implements Reply {}

    /** The model answered an error; SageMaker wraps it in a 424 ModelError. */
    record ModelFailure(int originalStatusCode, String originalMessage) implements Reply {}

    /** SageMaker itself answers an error (throttling, 5xx, validation) with this AWS error code. */
    record ServiceFailure(int httpStatus, String errorCode, String message) implements Reply {}

    /** The answer comes after {@code delay}; long enough, and the client's timeout fires first. */
    record Slow(Duration delay, Reply then) implements Reply {}

    /**
     * The answer's headers promise {@code declaredBytes}, {@code sentBytes} follow, and the connection closes: how
     * SageMaker ends a real-time response over its 6 MB limit.
     */
    record CutOff(int declaredBytes, int sentBytes) implements Reply {}

    static Reply answer(String contentType, String body) {
      return new Answer(contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    static Reply modelError(int originalStatusCode, String originalMessage) {
      return new ModelFailure(originalStatusCode, originalMessage);
    }

    static Reply throttled() {
      return new ServiceFailure(429, "ThrottlingException", "Rate exceeded");
    }

    static Reply serviceError(int httpStatus, String errorCode) {
      return new ServiceFailure(httpStatus, errorCode, errorCode + " raised by the stand-in");
    }

    /** A runtime ValidationError (the SDK's ValidationErrorException), e.g. for a payload that is too large. */
    static Reply validationError(String message) {
      return new ServiceFailure(400, "ValidationError", message);
    }

    static Reply slow(Duration delay, Reply then) {
      return new Slow(delay, then);
    }

    /** SageMaker's "invocation timed out": a ModelError with original status 0 after its 60 s limit. */
    static Reply invocationTimedOut() {
      return new ModelFailure(0, "Your invocation timed out while waiting for a response from container primary.");
    }

    static Reply cutOff(int declaredBytes, int sentBytes) {
      return new CutOff(declaredBytes, sentBytes);
    }
  }

  @FunctionalInterface
  public interface Model {
    Reply answer(Invocation invocation);

    /** Answers with the request's own body and content type. */
    static Model echo() {
      return inv -> new Reply.Answer(inv.contentType() == null ? "application/octet-stream" : inv.contentType(),
          inv.body());
    }
  }

  // ---- Asynchronous inference

  /** Where the stand-in's async model reads its input, writes its answers and publishes its notifications. */
  public interface AsyncBackend {
    byte[] read(String s3Uri);

    void write(String s3Uri, byte[] body, String contentType);

    void publish(String topicArn, String message);
  }

  /**
   * An EndpointConfig's AsyncInferenceConfig: its S3OutputPath and S3FailurePath ({@code s3://bucket/prefix}; the
   * failure path may be null) and its SuccessTopic and ErrorTopic (null: no notification).
   */
  public record AsyncConfig(String outputPath, String failurePath, String successTopic, String errorTopic) {}

  /** One InvokeEndpointAsync as it reached the stand-in, with the locations it was answered. */
  public record AsyncInvocation(String endpointName, String inferenceId, String inputLocation, String contentType,
      String accept, String customAttributes, Integer invocationTimeoutSeconds, Integer requestTtlSeconds,
      String outputLocation, String failureLocation, Instant received) {}

  // ---- State

  private static final class Endpoint {
    final String name;
    final String configName;
    final Instant creationTime;
    String status;
    String failureReason;
    Instant lastModified;
    long phaseSinceNanos;

    Endpoint(String name, String configName, Instant now, String status) {
      this.name = name;
      this.configName = configName;
      this.creationTime = now;
      this.lastModified = now;
      this.status = status;
      this.phaseSinceNanos = System.nanoTime();
    }
  }

  private final ObjectMapper mapper = new ObjectMapper();
  private final HttpServer server;
  private final ExecutorService executor;
  private final CountDownLatch closing = new CountDownLatch(1);
  private final Map<String, Endpoint> endpoints = new HashMap<>();
  private final Set<String> endpointConfigs = new CopyOnWriteArraySet<>();
  private final Set<String> capacityShort = new CopyOnWriteArraySet<>();
  private final StandInComponents components = new StandInComponents(this);
  private final StandInAsync async = new StandInAsync(this);
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  private final Map<String, Model> models = new ConcurrentHashMap<>();
  private final AtomicReference<String> lastAuthorization = new AtomicReference<>();
  private volatile Model defaultModel = Model.echo();
  private volatile Duration creationDelay = Duration.ofMillis(300);
  private volatile Duration deletionDelay = Duration.ofMillis(300);
  private boolean paused;

  private SageMakerStandIn(Set<String> knownConfigs) throws IOException {
    endpointConfigs.addAll(knownConfigs);
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    executor = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "sagemaker-stand-in");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Starts on a free loopback port, knowing the EndpointConfigs named. */
  public static SageMakerStandIn start(String... endpointConfigNames) {
    try {
      return new SageMakerStandIn(Set.of(endpointConfigNames));
    } catch (IOException e) {
      throw new IllegalStateException("could not start the SageMaker stand-in", e);
    }
  }

  public URI uri() {
    InetSocketAddress address = server.getAddress();
    return URI.create("http://" + address.getAddress().getHostAddress() + ":" + address.getPort());
  }

  /**
   * A {@code sagemaker} provider block that points at this stand-in with static credentials; add
   * {@code endpoint-name} with {@code withValue} when the test needs one.
   */
  public Config providerConfig(String endpointConfigName) {
    Map<String, Object> block = new LinkedHashMap<>();
    block.put("endpoint-config-name", endpointConfigName);
    block.put("region", REGION);
    block.put("endpoint-override", uri().toString());
    block.put("access-key-id", ACCESS_KEY_ID);
    block.put("secret-access-key", SECRET_ACCESS_KEY);
    return ConfigFactory.parseMap(block, "SageMaker stand-in");
  }

  // ---- Test controls

  public SageMakerStandIn knowEndpointConfig(String name) {
    endpointConfigs.add(name);
    return this;
  }

  /** Endpoints created from {@code configName} from now on end Failed with {@link #CAPACITY_REASON}. */
  public SageMakerStandIn capacityShortage(String configName) {
    endpointConfigs.add(configName);
    capacityShort.add(configName);
    return this;
  }

  /** Endpoints created from {@code configName} come into service again. */
  public SageMakerStandIn capacityRestored(String configName) {
    capacityShort.remove(configName);
    return this;
  }

  /** Knows {@code configName} as an EndpointConfig with an AsyncInferenceConfig. */
  public SageMakerStandIn asyncEndpointConfig(String configName, AsyncConfig config) {
    endpointConfigs.add(configName);
    async.register(configName, config);
    return this;
  }

  /** Where async models read and write S3 and publish to SNS; an in-memory {@link MemoryAsyncBackend} by default. */
  public SageMakerStandIn asyncBackend(AsyncBackend backend) {
    async.backend = backend;
    return this;
  }

  /** How long an async invocation waits after it was accepted before the model takes it (200 ms by default). */
  public SageMakerStandIn asyncProcessingDelay(Duration delay) {
    async.processingDelay = delay;
    return this;
  }

  /** Drops every SNS notification from now on (true), so that only looking at S3 finds the results. */
  public SageMakerStandIn dropNotifications(boolean drop) {
    async.dropNotifications = drop;
    return this;
  }

  /** The InvokeEndpointAsync requests accepted so far, oldest first. */
  public List<AsyncInvocation> asyncInvocations() {
    return async.invocations();
  }

  /**
   * Hosts {@code componentName} on {@code endpointName}, InService with 0 copies; the endpoint is created InService
   * if it does not exist (it is kept running in the scale-to-zero pattern).
   */
  public synchronized SageMakerStandIn inferenceComponent(String endpointName, String componentName) {
    if (current(endpointName) == null) {
      endpoints.put(endpointName, new Endpoint(endpointName, "component-host-config", Instant.now(), "InService"));
    }
    components.add(componentName, endpointName);
    return this;
  }

  /** How long a component takes to reach a new copy count, up or down (300 ms by default). */
  public synchronized SageMakerStandIn copyProvisioningDelay(Duration delay) {
    components.copyDelay = delay;
    return this;
  }

  /** Puts a component into {@code status} with these copy counts; it stays there until updated. */
  public synchronized void forceComponent(String componentName, String status, int current, int desired,
      String failureReason) {
    components.force(componentName, status, current, desired, failureReason);
  }

  /** The component's copies running now, or empty if it does not exist. */
  public synchronized Optional<Integer> componentCopies(String componentName) {
    return Optional.ofNullable(components.current(componentName, paused)).map(c -> c.current);
  }

  public SageMakerStandIn creationDelay(Duration delay) {
    this.creationDelay = delay;
    return this;
  }

  public SageMakerStandIn deletionDelay(Duration delay) {
    this.deletionDelay = delay;
    return this;
  }

  /** Holds every endpoint in its current status until {@link #resumeTransitions()}. */
  public synchronized void pauseTransitions() {
    settleAll();
    components.settleAll(false);
    paused = true;
  }

  /** Lets transitions run again; their delays count from now. */
  public synchronized void resumeTransitions() {
    paused = false;
    long now = System.nanoTime();
    endpoints.values().forEach(e -> e.phaseSinceNanos = now);
    components.resume(now);
  }

  /** The model behind every endpoint without one of its own. */
  public void model(Model model) {
    this.defaultModel = model;
  }

  public void model(String endpointName, Model model) {
    models.put(endpointName, model);
  }

  /**
   * Puts {@code endpointName} into {@code status}, creating it if needed (from its current or a made-up
   * config). It stays there until deleted: forced statuses do not move on by themselves, except that a forced
   * Creating or Deleting runs its course like a real one.
   */
  public synchronized void forceStatus(String endpointName, String status, String failureReason) {
    if (!STATUSES.contains(status)) {
      throw new IllegalArgumentException("not a SageMaker endpoint status: " + status);
    }
    Instant now = Instant.now();
    Endpoint e = endpoints.computeIfAbsent(endpointName, n -> new Endpoint(n, "forced-config", now, status));
    e.status = status;
    e.failureReason = failureReason;
    e.lastModified = now;
    e.phaseSinceNanos = System.nanoTime();
  }

  /** The endpoint's status as DescribeEndpoint would report it now, or empty if it does not exist. */
  public synchronized Optional<String> status(String endpointName) {
    return Optional.ofNullable(current(endpointName)).map(e -> e.status);
  }

  /** Requests that reached the stand-in for {@code operation} (CreateEndpoint, InvokeEndpoint...), refused ones
   * included. */
  public int calls(String operation) {
    AtomicInteger n = calls.get(operation);
    return n == null ? 0 : n.get();
  }

  public void resetCalls() {
    calls.clear();
  }

  /** The Authorization header of the last signed request, for tests that check the credential scope. */
  public Optional<String> lastAuthorization() {
    return Optional.ofNullable(lastAuthorization.get());
  }

  @Override
  public void close() {
    closing.countDown(); // releases slow replies
    async.close();
    server.stop(0);
    executor.shutdownNow();
  }

  // ---- Transitions

  /** The endpoint after any transition whose time has come; null when absent. Callers hold the lock. */
  private Endpoint current(String name) {
    Endpoint e = endpoints.get(name);
    if (e == null || paused) {
      return e;
    }
    long elapsed = System.nanoTime() - e.phaseSinceNanos;
    if (e.status.equals("Creating") && elapsed >= creationDelay.toNanos()) {
      boolean noCapacity = capacityShort.contains(e.configName);
      e.status = noCapacity ? "Failed" : "InService";
      e.failureReason = noCapacity ? CAPACITY_REASON : null;
      e.lastModified = Instant.now();
      e.phaseSinceNanos = System.nanoTime();
    } else if (e.status.equals("Deleting") && elapsed >= deletionDelay.toNanos()) {
      endpoints.remove(name);
      return null;
    }
    return e;
  }

  private void settleAll() {
    Set.copyOf(endpoints.keySet()).forEach(this::current);
  }

  // ---- HTTP

  private void handle(HttpExchange exchange) throws IOException {
    try {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      String path = exchange.getRequestURI().getPath();
      Matcher invocation = INVOCATIONS.matcher(path);
      Matcher asyncInvocation = ASYNC_INVOCATIONS.matcher(path);
      String target = exchange.getRequestHeaders().getFirst("X-Amz-Target");
      String operation = invocation.matches() ? "InvokeEndpoint" : asyncInvocation.matches() ? "InvokeEndpointAsync"
          : target != null && target.startsWith("SageMaker.") ? target.substring("SageMaker.".length()) : "Unknown";
      calls.computeIfAbsent(operation, k -> new AtomicInteger()).incrementAndGet();

      String authorization = exchange.getRequestHeaders().getFirst("Authorization");
      if (authorization == null || !authorization.startsWith("AWS4-HMAC-SHA256 Credential=")) {
        error(exchange, 403, "MissingAuthenticationTokenException", "Missing Authentication Token", null);
        return;
      }
      lastAuthorization.set(authorization);
      if (!exchange.getRequestMethod().equals("POST")) {
        error(exchange, 405, "UnknownOperationException", "only POST is served", null);
      } else if (invocation.matches()) {
        invoke(exchange, invocation.group(1), body);
      } else if (asyncInvocation.matches()) {
        invokeAsync(exchange, asyncInvocation.group(1));
      } else if (path.equals("/") && target != null) {
        controlPlane(exchange, operation, body);
      } else {
        error(exchange, 404, "UnknownOperationException", "nothing at " + path, null);
      }
    } catch (RuntimeException e) {
      // A broken test model must show up as a 500 in the test, not as a hung connection.
      error(exchange, 500, "InternalFailure", "stand-in failure: " + e, null);
    } finally {
      exchange.close();
    }
  }

  // ---- Control plane: AWS JSON 1.1

  private void controlPlane(HttpExchange exchange, String operation, byte[] body) throws IOException {
    JsonNode request = body.length == 0 ? mapper.createObjectNode() : mapper.readTree(body);
    if (operation.equals("DescribeInferenceComponent") || operation.equals("UpdateInferenceComponentRuntimeConfig")) {
      inferenceComponentOperation(exchange, operation, request);
      return;
    }
    String name = request.path("EndpointName").asText(null);
    if (name == null && !operation.equals("Unknown")) {
      error(exchange, 400, "ValidationException",
          "1 validation error detected: Value null at 'endpointName' failed to satisfy constraint: Member must not be "
          + "null", JSON_11);
      return;
    }
    switch (operation) {
      case "CreateEndpoint" -> createEndpoint(exchange, name, request.path("EndpointConfigName").asText(null));
      case "DescribeEndpoint" -> describeEndpoint(exchange, name);
      case "DeleteEndpoint" -> deleteEndpoint(exchange, name);
      default -> error(exchange, 400, "UnknownOperationException", "the stand-in does not serve " + operation, JSON_11);
    }
  }

  private void createEndpoint(HttpExchange exchange, String name, String configName) throws IOException {
    ObjectNode reply;
    synchronized (this) {
      Endpoint existing = current(name);
      if (existing != null) {
        error(exchange, 400, "ValidationException", "Cannot create already existing endpoint \"" + arn(name) + "\".",
            JSON_11);
        return;
      }
      if (configName == null || !endpointConfigs.contains(configName)) {
        error(exchange, 400, "ValidationException",
            "Could not find endpoint configuration \"" + configArn(String.valueOf(configName)) + "\".", JSON_11);
        return;
      }
      endpoints.put(name, new Endpoint(name, configName, Instant.now(), "Creating"));
      reply = mapper.createObjectNode().put("EndpointArn", arn(name));
    }
    json(exchange, 200, reply);
  }

  private void describeEndpoint(HttpExchange exchange, String name) throws IOException {
    ObjectNode reply;
    synchronized (this) {
      Endpoint e = current(name);
      if (e == null) {
        error(exchange, 400, "ValidationException", "Could not find endpoint \"" + name + "\".", JSON_11);
        return;
      }
      reply = mapper.createObjectNode()
          .put("EndpointName", e.name)
          .put("EndpointArn", arn(e.name))
          .put("EndpointConfigName", e.configName)
          .put("EndpointStatus", e.status)
          // JSON 1.1 timestamps are epoch seconds, fractions allowed.
          .put("CreationTime", epochSeconds(e.creationTime))
          .put("LastModifiedTime", epochSeconds(e.lastModified));
      if (e.failureReason != null) {
        reply.put("FailureReason", e.failureReason);
      }
    }
    json(exchange, 200, reply);
  }

  private void deleteEndpoint(HttpExchange exchange, String name) throws IOException {
    synchronized (this) {
      Endpoint e = current(name);
      if (e == null) {
        error(exchange, 400, "ValidationException", "Could not find endpoint \"" + arn(name) + "\".", JSON_11);
        return;
      }
      if (IN_PROGRESS.contains(e.status)) {
        error(exchange, 400, "ValidationException", "Cannot delete in-progress endpoint \"" + arn(name) + "\".",
            JSON_11);
        return;
      }
      e.status = "Deleting";
      e.failureReason = null;
      e.lastModified = Instant.now();
      e.phaseSinceNanos = System.nanoTime();
    }
    json(exchange, 200, mapper.createObjectNode());
  }

  private void inferenceComponentOperation(HttpExchange exchange, String operation, JsonNode request)
      throws IOException {
    String name = request.path("InferenceComponentName").asText(null);
    if (name == null) {
      error(exchange, 400, "ValidationException", "1 validation error detected: Value null at "
          + "'inferenceComponentName' failed to satisfy constraint: Member must not be null", JSON_11);
      return;
    }
    synchronized (this) {
      if (operation.equals("DescribeInferenceComponent")) {
        components.describe(exchange, name, paused);
        return;
      }
      JsonNode copies = request.path("DesiredRuntimeConfig").path("CopyCount");
      if (!copies.isInt() || copies.asInt() < 0) {
        error(exchange, 400, "ValidationException", "1 validation error detected: Value at "
            + "'desiredRuntimeConfig.copyCount' failed to satisfy constraint: Member must have value greater than or "
            + "equal to 0", JSON_11);
        return;
      }
      components.update(exchange, name, copies.asInt(), paused);
    }
  }

  // ---- Runtime: REST-JSON

  private void invoke(HttpExchange exchange, String name, byte[] body) throws IOException {
    boolean serving;
    synchronized (this) {
      Endpoint e = current(name);
      serving = e != null && Set.of("InService", "Updating", "SystemUpdating", "RollingBack").contains(e.status);
    }
    if (!serving) {
      error(exchange, 400, "ValidationError", "Endpoint " + name + " of account " + ACCOUNT + " not found.",
          "application/json");
      return;
    }
    var headers = exchange.getRequestHeaders();
    String component = headers.getFirst("X-Amzn-SageMaker-Inference-Component");
    if (component != null) {
      StandInComponents.Component c;
      synchronized (this) {
        c = components.current(component, paused);
      }
      if (c == null || !c.endpointName.equals(name)) {
        // Ours: SageMaker's wording for an unknown component is not documented.
        error(exchange, 400, "ValidationError", "Inference Component " + component + " not found on endpoint " + name
            + ".", "application/json");
        return;
      }
      if (c.current == 0) {
        error(exchange, 400, "ValidationError", NO_CAPACITY, "application/json");
        return;
      }
    }
    Invocation invocation = new Invocation(name, headers.getFirst("Content-Type"), headers.getFirst("Accept"), body,
        headers.getFirst("X-Amzn-SageMaker-Inference-Id"), headers.getFirst("X-Amzn-SageMaker-Custom-Attributes"),
        component);
    Reply reply = models.getOrDefault(component != null ? component : name, models.getOrDefault(name, defaultModel))
        .answer(invocation);
    respond(exchange, name, reply);
  }

  private void invokeAsync(HttpExchange exchange, String name) throws IOException {
    String configName;
    synchronized (this) {
      Endpoint e = current(name);
      boolean serving = e != null && Set.of("InService", "Updating", "SystemUpdating", "RollingBack")
          .contains(e.status);
      configName = serving ? e.configName : null;
    }
    if (configName == null) {
      error(exchange, 400, "ValidationError", "Endpoint " + name + " of account " + ACCOUNT + " not found.",
          "application/json");
      return;
    }
    async.invoke(exchange, name, configName, models.getOrDefault(name, defaultModel));
  }

  private void respond(HttpExchange exchange, String name, Reply reply) throws IOException {
    if (reply instanceof Reply.Answer a) {
      exchange.getResponseHeaders().set("Content-Type", a.contentType());
      exchange.getResponseHeaders().set("x-Amzn-Invoked-Production-Variant", "AllTraffic");
      send(exchange, 200, a.body());
    } else if (reply instanceof Reply.ModelFailure f) {
      boolean client = f.originalStatusCode() < 500;
      ObjectNode body = mapper.createObjectNode()
          .put("__type", "ModelError")
          .put("ErrorCode", client ? "CLIENT_ERROR_FROM_MODEL" : "SERVER_ERROR_FROM_MODEL")
          .put("LogStreamArn", "arn:aws:logs:" + REGION + ":" + ACCOUNT + ":log-group:/aws/sagemaker/Endpoints/" + name)
          .put("Message", "Received " + (client ? "client" : "server") + " error (" + f.originalStatusCode()
              + ") from primary with message \"" + f.originalMessage() + "\".")
          .put("OriginalMessage", f.originalMessage())
          .put("OriginalStatusCode", f.originalStatusCode());
      exchange.getResponseHeaders().set("x-amzn-ErrorType", "ModelError");
      json(exchange, 424, body, "application/json");
    } else if (reply instanceof Reply.ServiceFailure f) {
      error(exchange, f.httpStatus(), f.errorCode(), f.message(), "application/json");
    } else if (reply instanceof Reply.CutOff c) {
      exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
      exchange.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
      exchange.sendResponseHeaders(200, c.declaredBytes());
      OutputStream out = exchange.getResponseBody();
      out.write(new byte[c.sentBytes()]);
      out.flush();
      // A handler that fails makes the JDK's server close the connection, short of the promised length.
      throw new IOException("the stand-in cuts this answer off after " + c.sentBytes() + " bytes");
    } else if (reply instanceof Reply.Slow s) {
      try {
        if (closing.await(s.delay().toMillis(), TimeUnit.MILLISECONDS)) {
          return; // closing: nobody waits for the answer any more
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      try {
        respond(exchange, name, s.then());
      } catch (IOException gone) {
        // The client timed out and closed the connection, which is what a slow reply is for.
      }
    } else {
      throw new IllegalArgumentException("no reply: " + reply);
    }
  }

  // ---- Wire helpers

  /** An AWS error: the code in {@code x-amzn-ErrorType} and again as {@code __type}, the message as {@code message}. */
  void error(HttpExchange exchange, int status, String code, String message, String contentType)
      throws IOException {
    exchange.getResponseHeaders().set("x-amzn-ErrorType", code);
    ObjectNode body = mapper.createObjectNode().put("__type", code).put("message", message);
    json(exchange, status, body, contentType == null ? "application/json" : contentType);
  }

  private void json(HttpExchange exchange, int status, JsonNode body) throws IOException {
    json(exchange, status, body, JSON_11);
  }

  void json(HttpExchange exchange, int status, JsonNode body, String contentType) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", contentType);
    send(exchange, status, mapper.writeValueAsBytes(body));
  }

  private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
    exchange.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  ObjectMapper mapper() {
    return mapper;
  }

  static double epochSeconds(Instant t) {
    return t.getEpochSecond() + t.getNano() / 1_000_000_000.0;
  }

  static String arn(String name) {
    return "arn:aws:sagemaker:" + REGION + ":" + ACCOUNT + ":endpoint/" + name.toLowerCase(Locale.ROOT);
  }

  private static String configArn(String name) {
    return "arn:aws:sagemaker:" + REGION + ":" + ACCOUNT + ":endpoint-config/" + name.toLowerCase(Locale.ROOT);
  }
}
