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
 * not-found message) it is copied; refusing to delete an endpoint in progress is modelled on reports that
 * a Creating endpoint cannot be deleted, in wording of our own.
 */
public final class SageMakerStandIn implements AutoCloseable {

  public static final String ACCOUNT = "123456789012";
  public static final String REGION = "us-east-1";
  public static final String ACCESS_KEY_ID = "AKIDSTANDIN";
  public static final String SECRET_ACCESS_KEY = "stand-in-secret";

  private static final String JSON_11 = "application/x-amz-json-1.1";
  private static final Pattern INVOCATIONS = Pattern.compile("^/endpoints/([^/]+)/invocations$");
  private static final Set<String> STATUSES = Set.of(
      "Creating", "Updating", "SystemUpdating", "RollingBack", "InService", "Deleting", "Failed",
          "UpdateRollbackFailed",
      "OutOfService");
  private static final Set<String> IN_PROGRESS = Set.of("Creating", "Updating", "SystemUpdating", "RollingBack",
      "Deleting");

  // ---- What the model does

  /** One InvokeEndpoint as the model sees it. */
  public record Invocation(String endpointName, String contentType, String accept, byte[] body) {
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
    paused = true;
  }

  /** Lets transitions run again; their delays count from now. */
  public synchronized void resumeTransitions() {
    paused = false;
    long now = System.nanoTime();
    endpoints.values().forEach(e -> e.phaseSinceNanos = now);
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
      e.status = "InService";
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
      String target = exchange.getRequestHeaders().getFirst("X-Amz-Target");
      String operation = invocation.matches() ? "InvokeEndpoint"
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
    Invocation invocation = new Invocation(name, headers.getFirst("Content-Type"), headers.getFirst("Accept"), body);
    Reply reply = models.getOrDefault(name, defaultModel).answer(invocation);
    respond(exchange, name, reply);
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
  private void error(HttpExchange exchange, int status, String code, String message, String contentType)
      throws IOException {
    exchange.getResponseHeaders().set("x-amzn-ErrorType", code);
    ObjectNode body = mapper.createObjectNode().put("__type", code).put("message", message);
    json(exchange, status, body, contentType == null ? "application/json" : contentType);
  }

  private void json(HttpExchange exchange, int status, JsonNode body) throws IOException {
    json(exchange, status, body, JSON_11);
  }

  private void json(HttpExchange exchange, int status, JsonNode body, String contentType) throws IOException {
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

  private static double epochSeconds(Instant t) {
    return t.getEpochSecond() + t.getNano() / 1_000_000_000.0;
  }

  private static String arn(String name) {
    return "arn:aws:sagemaker:" + REGION + ":" + ACCOUNT + ":endpoint/" + name.toLowerCase(Locale.ROOT);
  }

  private static String configArn(String name) {
    return "arn:aws:sagemaker:" + REGION + ":" + ACCOUNT + ":endpoint-config/" + name.toLowerCase(Locale.ROOT);
  }
}
