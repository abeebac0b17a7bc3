package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import warmgate.config.WebhookSettings;
import warmgate.testing.ManualClock;

// A real HTTP receiver on loopback (the JDK's HttpServer); no actors.
class HttpWebhooksTest {
  private static final WebhookSettings SETTINGS =
      new WebhookSettings("s3cret", List.of("127.0.0.1"), true, Duration.ofSeconds(2), 3, Duration.ofSeconds(1),
          Duration.ofSeconds(10));

  private HttpServer receiver;
  private final Map<String, String> received = new ConcurrentHashMap<>();
  private String base;

  @BeforeEach
  void startReceiver() throws IOException {
    receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext("/hook", exchange -> {
      received.put("id", exchange.getRequestHeaders().getFirst("webhook-id"));
      received.put("timestamp", exchange.getRequestHeaders().getFirst("webhook-timestamp"));
      received.put("signature", exchange.getRequestHeaders().getFirst("webhook-signature"));
      received.put("contentType", exchange.getRequestHeaders().getFirst("Content-Type"));
      received.put("body", new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      exchange.sendResponseHeaders(204, -1);
      exchange.close();
    });
    receiver.createContext("/moved", exchange -> {
      exchange.getResponseHeaders().add("Location", "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook");
      exchange.sendResponseHeaders(307, -1);
      exchange.close();
    });
    receiver.start();
    base = "http://127.0.0.1:" + receiver.getAddress().getPort();
  }

  @AfterEach
  void stopReceiver() {
    receiver.stop(0);
  }

  @Test
  void deliveryIsSignedOverIdTimestampAndBodyAsStandardWebhooksDescribes() {
    ManualClock clock = new ManualClock();
    var webhooks = new HttpWebhooks(SETTINGS, clock);
    byte[] body = "{\"type\":\"job.succeeded\"}".getBytes(StandardCharsets.UTF_8);

    int status = webhooks.send(base + "/hook", "job-1.0.succeeded", body).toCompletableFuture().join();

    assertThat(status).isEqualTo(204);
    assertThat(received).containsEntry("id", "job-1.0.succeeded")
        .containsEntry("timestamp", Long.toString(clock.instant().getEpochSecond()))
        .containsEntry("contentType", "application/json")
        .containsEntry("body", "{\"type\":\"job.succeeded\"}");
    // What a receiver computes with the shared secret: HMAC-SHA256 of "id.timestamp.body", base64.
    String expected = HttpWebhooks.sign("s3cret", "job-1.0.succeeded", received.get("timestamp"), body);
    assertThat(received.get("signature")).isEqualTo("v1," + expected);
    assertThat(HttpWebhooks.sign("other", "job-1.0.succeeded", received.get("timestamp"), body)).isNotEqualTo(expected);
    assertThat(HttpWebhooks.sign("s3cret", "job-1.0.succeeded", "1",
        body)).as("the timestamp is signed").isNotEqualTo(expected);
  }

  @Test
  void signatureMatchesAnIndependentlyComputedVector() {
    // Computed with Python's hmac module: base64(HMAC-SHA256("s3cret", "msg_1.1700000000.{}")).
    assertThat(HttpWebhooks.sign("s3cret", "msg_1", "1700000000", "{}".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo("uNtIplUOMTIs6G1RRPpb6NsRUZZLxUiBZsZiXV3ycuM=");
  }

  @Test
  void redirectsAreNotFollowed() {
    var webhooks = new HttpWebhooks(SETTINGS, java.time.Clock.systemUTC());

    int status = webhooks.send(base + "/moved", "job-1.0.failed", new byte[0]).toCompletableFuture().join();

    assertThat(status).as("a redirect counts as a failed delivery").isEqualTo(307);
    assertThat(received).isEmpty();
  }
}
