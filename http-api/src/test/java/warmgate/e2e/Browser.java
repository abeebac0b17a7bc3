package warmgate.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import warmgate.Json;

/**
 * Headless Chromium driven through ChromeDriver's W3C WebDriver protocol, with the few commands the dashboard
 * test needs. Debian's {@code chromium} and {@code chromium-driver} packages; {@code bin/test} installs them.
 */
final class Browser implements AutoCloseable {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final Process driver;
  private final String base;
  private final String session;

  private Browser(Process driver, String base, String session) {
    this.driver = driver;
    this.base = base;
    this.session = session;
  }

  static Browser start(Path profileDir) throws Exception {
    for (Path binary : List.of(CHROMIUM, CHROMEDRIVER)) {
      if (!Files.isExecutable(binary)) {
        throw new IllegalStateException(binary + " is missing: install Debian's chromium and chromium-driver "
            + "(bin/test does: apt-get install chromium chromium-driver)");
      }
    }
    int port = Ports.free();
    Process driver = new ProcessBuilder(CHROMEDRIVER.toString(), "--port=" + port)
        .redirectErrorStream(true).redirectOutput(profileDir.resolve("chromedriver.log").toFile()).start();
    String base = "http://127.0.0.1:" + port;
    try {
      HttpClient probe = HttpClient.newHttpClient();
      Await.until(Duration.ofSeconds(20), "chromedriver to listen", () -> {
        try {
          return probe.send(HttpRequest.newBuilder(URI.create(base + "/status")).build(),
              HttpResponse.BodyHandlers.ofString())
              .statusCode() == 200;
        } catch (IOException e) {
          return false;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      });
      // The flags the machine's notes ask for: no sandbox as root, and no background calls out of a closed network.
      List<String> args = List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
          "--user-data-dir=" + profileDir.resolve("profile"), "--window-size=1280,1024");
      Map<String, Object> capabilities = Map.of("capabilities", Map.of("alwaysMatch", Map.of(
          "browserName", "chrome",
          "goog:chromeOptions", Map.of("binary", CHROMIUM.toString(), "args", args))));
      JsonNode created = call(HttpClient.newHttpClient(), "POST", base + "/session", capabilities);
      return new Browser(driver, base, created.path("sessionId").asText());
    } catch (Exception e) {
      driver.destroyForcibly();
      throw e;
    }
  }

  void open(String url) throws Exception {
    command("POST", "/url", Map.of("url", url));
  }

  /** The element's id for later commands, or null when no element matches {@code css}. */
  String find(String css) throws Exception {
    JsonNode found = command("POST", "/elements", Map.of("using", "css selector", "value", css));
    return found.isEmpty() ? null : found.get(0).elements().next().asText();
  }

  void type(String element, String text) throws Exception {
    command("POST", "/element/" + element + "/clear", Map.of());
    command("POST", "/element/" + element + "/value", Map.of("text", text));
  }

  void click(String element) throws Exception {
    command("POST", "/element/" + element + "/click", Map.of());
  }

  String text(String element) throws Exception {
    return command("GET", "/element/" + element + "/text", null).asText();
  }

  /** Runs {@code script} in the page and returns what it returns, as JSON. */
  JsonNode script(String script) throws Exception {
    return command("POST", "/execute/sync", Map.of("script", script, "args", List.of()));
  }

  /** Resizes the browser's window, so a screenshot can hold more of the page. */
  void resize(int width, int height) throws Exception {
    command("POST", "/window/rect", Map.of("width", width, "height", height));
  }

  byte[] screenshot() throws Exception {
    return java.util.Base64.getDecoder().decode(command("GET", "/screenshot", null).asText());
  }

  private JsonNode command(String method, String path, Object body) throws Exception {
    return call(http, method, base + "/session/" + session + path, body);
  }

  private static JsonNode call(HttpClient http, String method, String url, Object body) throws Exception {
    HttpRequest.BodyPublisher publisher = body == null
        ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(Json.mapper().writeValueAsString(body));
    HttpResponse<String> response = http.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/json").method(method, publisher).build(),
        HttpResponse.BodyHandlers.ofString());
    JsonNode value = Json.mapper().readTree(response.body()).path("value");
    if (response.statusCode() != 200) {
      throw new IllegalStateException("WebDriver " + method + " " + url + " answered " + response.statusCode() + ": "
          + value);
    }
    return value;
  }

  @Override
  public void close() {
    try {
      call(http, "DELETE", base + "/session/" + session, null);
    } catch (Exception e) {
      // The driver goes below anyway, and takes the browser with it.
    } finally {
      driver.destroyForcibly();
    }
  }
}
