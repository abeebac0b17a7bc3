package warmgate.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

// Real HTTP on loopback: the demo model server in this JVM.
class DemoModelServerTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private DemoModelServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private HttpResponse<String> post(String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/invocations"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private int ping() throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/ping")).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static String request(byte[] image, byte[] mask) {
    return "{\"image\":\"" + Base64.getEncoder().encodeToString(image) + "\",\"mask\":\""
        + Base64.getEncoder().encodeToString(mask) + "\"}";
  }

  @Test
  void pingAnswers503UntilTheStartupDelayHasPassed() throws Exception {
    server = DemoModelServer.start("127.0.0.1", 0, Duration.ofMillis(400), Duration.ZERO);

    assertThat(ping()).isEqualTo(503);
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (ping() != 200 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(ping()).isEqualTo(200);
  }

  @Test
  void turnsMaskedPixelsIntoAPlyPointCloud() throws Exception {
    server = DemoModelServer.start("127.0.0.1", 0, Duration.ZERO, Duration.ZERO);

    var response = post(request(SampleImages.image(32), SampleImages.disc(32, 5)));

    assertThat(response.statusCode()).isEqualTo(200);
    String ply = response.body();
    assertThat(ply).startsWith("ply\nformat ascii 1.0\n");
    int vertices = Integer.parseInt(ply.lines().filter(l ->
        l.startsWith("element vertex ")).findFirst().orElseThrow().substring(15));
    long dataLines = ply.substring(ply.indexOf("end_header\n") + 11).lines().count();
    assertThat(vertices).isEqualTo(dataLines).isBetween(60, 100); // pi * 5^2 is about 79 pixels
    assertThat(server.invocations()).isEqualTo(1);
  }

  @Test
  void refusesMismatchedSizesWith400() throws Exception {
    server = DemoModelServer.start("127.0.0.1", 0, Duration.ZERO, Duration.ZERO);

    var response = post(request(SampleImages.image(32), SampleImages.mask(16)));

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).contains("must match");
  }

  @Test
  void refusesMissingFieldsBadBase64AndNonImagesWith400() throws Exception {
    server = DemoModelServer.start("127.0.0.1", 0, Duration.ZERO, Duration.ZERO);
    String image = Base64.getEncoder().encodeToString(SampleImages.image(8));

    assertThat(post("{\"image\":\"" + image + "\"}").body()).contains("field 'mask'");
    assertThat(post("{\"image\":\"" + image + "\",\"mask\":\"%%%\"}").body()).contains("not valid base64");
    assertThat(post("{\"image\":\"" + image + "\",\"mask\":\""
        + Base64.getEncoder().encodeToString("hello".getBytes(StandardCharsets.UTF_8))
            + "\"}").body()).contains("not a PNG");
    assertThat(post("not json").statusCode()).isEqualTo(400);
  }

  @Test
  void refusesAMaskThatSelectsNothing() throws Exception {
    server = DemoModelServer.start("127.0.0.1", 0, Duration.ZERO, Duration.ZERO);

    var response = post(request(SampleImages.image(16), SampleImages.disc(16, 0)));

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).contains("selects no pixel");
  }

  @Test
  void aPortItCannotListenOnIsOneLineNamingTheAddress() {
    assertThat(DemoModelServer.bindFailure(new java.net.BindException("Address already in use"), "127.0.0.1", 18080))
        .isEqualTo("address already in use (127.0.0.1:18080)");
  }
}
