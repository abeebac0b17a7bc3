package warmgate.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import javax.imageio.ImageIO;
import warmgate.Json;
import warmgate.demo.DemoModelServer;
import warmgate.demo.PointCloud;

/**
 * A model server for the chaos test that does the demo model's real work (decode two PNGs, build the point cloud)
 * and writes one line per invocation, the {@code job} field of the payload, to a log file before it answers, so
 * the test can count how often the model ran for each job. One write per line, unbuffered: the lines survive the
 * process being killed.
 *
 * <p>{@code --host H --port N --log FILE --delay MILLIS}; it answers {@code /ping} at once. The delay keeps each
 * invocation in flight a while, so a kill finds attempts running.
 */
public final class CountingModel {
  private CountingModel() {}

  public static void main(String[] args) throws IOException {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      options.put(args[i], args[i + 1]);
    }
    FileOutputStream log = new FileOutputStream(options.get("--log"), true);
    long delayMillis = Long.parseLong(options.getOrDefault("--delay", "0"));
    // As the demo model does: the JDK's first PNG decodes, racing on several threads, can read a mask as black.
    DemoModelServer.warmUpDecoders();
    HttpServer server = HttpServer.create(new InetSocketAddress(options.getOrDefault("--host", "127.0.0.1"),
        Integer.parseInt(options.get("--port"))), 128);
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.createContext("/ping", exchange -> respond(exchange, 200,
        "{\"status\":\"healthy\"}".getBytes(StandardCharsets.UTF_8)));
    server.createContext("/invocations", exchange -> {
      try {
        JsonNode request = Json.mapper().readTree(exchange.getRequestBody().readAllBytes());
        String line = request.path("job").asText("?") + "\n";
        synchronized (log) {
          log.write(line.getBytes(StandardCharsets.UTF_8));
        }
        byte[] ply = PointCloud.toPly(png(request, "image"), png(request, "mask"));
        Thread.sleep(delayMillis);
        respond(exchange, 200, ply);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        respond(exchange, 503, "{\"error\":{\"message\":\"stopping\"}}".getBytes(StandardCharsets.UTF_8));
      } catch (IOException | RuntimeException e) {
        respond(exchange, 400, ("{\"error\":{\"message\":\"" + e.getClass().getSimpleName()
            + "\"}}").getBytes(StandardCharsets.UTF_8));
      }
    });
    server.start();
  }

  /** The job ids the log names, one entry per invocation. */
  public static List<String> invocations(Path log) throws IOException {
    return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
  }

  private static BufferedImage png(JsonNode request, String field) throws IOException {
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(request.path(field)
        .asText())));
    if (image == null) {
      throw new IllegalArgumentException(field + " is not a PNG");
    }
    return image;
  }

  private static void respond(HttpExchange exchange, int status, byte[] body) throws IOException {
    try (exchange) {
      exchange.sendResponseHeaders(status, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }
}
