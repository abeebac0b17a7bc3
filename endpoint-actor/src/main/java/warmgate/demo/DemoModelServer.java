package warmgate.demo;

import com.fasterxml.jackson.core.Base64Variants;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.Json;

/**
 * A small model server that speaks the SageMaker container contract ({@code GET /ping},
 * {@code POST /invocations}) so the {@code process} provider has something real to start. It takes
 * {@code {"image": base64 PNG, "mask": base64 PNG}} and answers with a PLY point cloud of the masked pixels
 * ({@link PointCloud}). Its cold start is made visible on purpose: {@code /ping} answers 503 until
 * {@code --startup-delay} has passed.
 */
public final class DemoModelServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DemoModelServer.class);
  static final int MAX_PIXELS = 2048 * 2048;

  private final HttpServer server;
  private final ExecutorService executor;
  private final long readyAtNanos;
  private final Duration invokeDelay;
  private final AtomicLong invocations = new AtomicLong();

  private DemoModelServer(HttpServer server, ExecutorService executor, Duration startupDelay, Duration invokeDelay) {
    this.server = server;
    this.executor = executor;
    this.readyAtNanos = System.nanoTime() + startupDelay.toNanos();
    this.invokeDelay = invokeDelay;
  }

  /**
   * Listens at once; reports healthy after {@code startupDelay}.
   *
   * @param port 0 picks a free port
   * @param invokeDelay extra time each invocation takes, to make running jobs observable in tests
   */
  public static DemoModelServer start(String host, int port, Duration startupDelay, Duration invokeDelay)
      throws IOException {
    warmUpDecoders();
    HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 64);
    ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "demo-model");
      t.setDaemon(true);
      return t;
    });
    DemoModelServer demo = new DemoModelServer(server, executor, startupDelay, invokeDelay);
    server.createContext("/ping", demo::ping);
    server.createContext("/invocations", demo::invocations);
    server.setExecutor(executor);
    server.start();
    return demo;
  }

  /**
   * Decodes an RGB image and a grayscale mask once, on one thread, before the first request. The JDK sets up its
   * colour conversion lazily, and the first decodes racing on several threads could read a grayscale mask as all
   * black: seen as "the mask selects no pixel" for 3 of the first 32 concurrent jobs on a freshly started model,
   * and reproduced outside Warmgate in 2 of 25 fresh JVMs (0 of 25 after this warm-up).
   */
  public static void warmUpDecoders() throws IOException {
    for (byte[] png : List.of(SampleImages.image(8), SampleImages.mask(8))) {
      ImageIO.read(new ByteArrayInputStream(png));
    }
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** Invocations answered so far, successful or not. */
  public long invocations() {
    return invocations.get();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private boolean ready() {
    return System.nanoTime() - readyAtNanos >= 0;
  }

  private void ping(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestMethod().equals("GET")) {
        respondError(exchange, 405, "use GET /ping");
      } else if (ready()) {
        respond(exchange, 200, "application/json", "{\"status\":\"healthy\"}".getBytes(StandardCharsets.UTF_8));
      } else {
        respondError(exchange, 503, "loading the model");
      }
    }
  }

  private void invocations(HttpExchange exchange) throws IOException {
    try (exchange) {
      invocations.incrementAndGet();
      if (!exchange.getRequestMethod().equals("POST")) {
        respondError(exchange, 405, "use POST /invocations");
        return;
      }
      if (!ready()) {
        respondError(exchange, 503, "the model is still loading");
        return;
      }
      byte[] ply;
      Path dir = Files.createTempDirectory("demo-model-");
      try {
        Map<String, Path> files = readRequest(exchange.getRequestBody(), dir);
        BufferedImage image = png(files, "image");
        BufferedImage mask = png(files, "mask");
        ply = PointCloud.toPly(image, mask);
      } catch (IllegalArgumentException e) {
        respondError(exchange, 400, e.getMessage());
        return;
      } catch (com.fasterxml.jackson.core.JacksonException e) {
        respondError(exchange, 400, "the body is not valid JSON: " + e.getOriginalMessage());
        return;
      } finally {
        deleteAll(dir);
      }
      if (!invokeDelay.isZero()) {
        try {
          Thread.sleep(invokeDelay.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          respondError(exchange, 503, "shutting down");
          return;
        }
      }
      respond(exchange, 200, "application/octet-stream", ply);
    } catch (RuntimeException e) {
      log.error("Invocation failed", e);
      throw e;
    }
  }

  /**
   * Reads the request as it arrives: {@code image} and {@code mask} are decoded from base64 into files under
   * {@code dir} on the way, other fields skipped, so a request of any size costs this server a buffer, not its size.
   */
  private static Map<String, Path> readRequest(InputStream body, Path dir) throws IOException {
    Map<String, Path> files = new HashMap<>();
    try (JsonParser parser = Json.mapper().getFactory().createParser(body)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("the body must be a JSON object");
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        if ((field.equals("image") || field.equals("mask")) && value == JsonToken.VALUE_STRING) {
          Path file = dir.resolve(field + ".png");
          try (OutputStream out = Files.newOutputStream(file)) {
            parser.readBinaryValue(Base64Variants.MIME_NO_LINEFEEDS, out);
          } catch (com.fasterxml.jackson.core.exc.StreamReadException e) {
            throw new IllegalArgumentException("field '" + field + "' is not valid base64: " + e.getOriginalMessage());
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("field '" + field + "' is not valid base64: " + e.getMessage());
          }
          files.put(field, file);
        } else {
          parser.skipChildren();
        }
      }
    }
    return files;
  }

  private static BufferedImage png(Map<String, Path> files, String field) {
    Path file = files.get(field);
    if (file == null) {
      throw new IllegalArgumentException("field '" + field + "' must be a base64-encoded PNG");
    }
    BufferedImage image;
    try {
      image = ImageIO.read(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException("field '" + field + "' is not a readable image: " + e.getMessage());
    }
    if (image == null) {
      throw new IllegalArgumentException("field '" + field + "' is not a PNG image");
    }
    if ((long) image.getWidth() * image.getHeight() > MAX_PIXELS) {
      throw new IllegalArgumentException("field '" + field + "' has more than " + MAX_PIXELS + " pixels");
    }
    return image;
  }

  private static void deleteAll(Path dir) {
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      log.warn("Could not remove {}: {}", dir, e.toString());
    }
  }

  private static void respondError(HttpExchange exchange, int status, String message) throws IOException {
    ObjectNode error = Json.mapper().createObjectNode();
    error.putObject("error").put("message", message);
    respond(exchange, status, "application/json", Json.mapper().writeValueAsBytes(error));
  }

  private static void respond(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  /** {@code --host 127.0.0.1 --port 8080 --startup-delay 3s --invoke-delay 0s}; runs until killed. */
  public static void main(String[] args) throws Exception {
    String host = "127.0.0.1";
    int port = 8080;
    Duration startupDelay = Duration.ofSeconds(3);
    Duration invokeDelay = Duration.ZERO;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--host" -> host = required(args[i], value);
        case "--port" -> port = Integer.parseInt(required(args[i], value));
        case "--startup-delay" -> startupDelay = parseDuration(required(args[i], value));
        case "--invoke-delay" -> invokeDelay = parseDuration(required(args[i], value));
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + "; usage: --host H --port N --startup-delay 3s --invoke-delay 0s");
      }
      i++;
    }
    DemoModelServer server;
    try {
      server = start(host, port, startupDelay, invokeDelay);
    } catch (BindException e) {
      // The provider reports the last line of this process's output as the reason its start failed.
      System.err.println(bindFailure(e, host, port));
      System.exit(1);
      return;
    }
    log.info("Demo model listening on {}:{}; healthy in {} ms", host, server.port(), startupDelay.toMillis());
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "demo-model-shutdown"));
    Thread.currentThread().join();
  }

  /** One line a user can act on, e.g. {@code address already in use (127.0.0.1:18080)}. */
  static String bindFailure(BindException e, String host, int port) {
    String why = e.getMessage() == null ? "cannot listen" : e.getMessage().replaceFirst(" \\(Bind failed\\)$", "");
    return why.toLowerCase(java.util.Locale.ROOT) + " (" + host + ":" + port + ")";
  }

  private static String required(String option, String value) {
    if (value == null) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return value;
  }

  /** {@code 1500ms}, {@code 3s}, {@code 2m}, or an ISO-8601 duration. */
  static Duration parseDuration(String text) {
    if (text.endsWith("ms")) {
      return Duration.ofMillis(Long.parseLong(text.substring(0, text.length() - 2)));
    }
    if (text.endsWith("s")) {
      return Duration.ofMillis((long) (Double.parseDouble(text.substring(0, text.length() - 1)) * 1000));
    }
    if (text.endsWith("m")) {
      return Duration.ofMinutes(Long.parseLong(text.substring(0, text.length() - 1)));
    }
    return Duration.parse(text);
  }
}
