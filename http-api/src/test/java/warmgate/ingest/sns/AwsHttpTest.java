package warmgate.ingest.sns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

// The production HTTP client against a plain HTTP server on loopback: redirects, size limit, timeouts.
class AwsHttpTest {
  private HttpServer server;
  private String base;
  private final List<String> hits = new CopyOnWriteArrayList<>();
  private final AwsHttp http = new AwsHttp(Duration.ofSeconds(1), Duration.ofMillis(500), 1024);

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      hits.add(exchange.getRequestURI().getPath());
      String path = exchange.getRequestURI().getPath();
      switch (path) {
        case "/cert.pem" -> respond(exchange, 200, "-----BEGIN CERTIFICATE-----\n".getBytes());
        case "/redirect" -> {
          exchange.getResponseHeaders().add("Location", base + "/cert.pem");
          respond(exchange, 302, new byte[0]);
        }
        case "/huge" -> respond(exchange, 200, new byte[4096]);
        case "/slow" -> {
          try {
            Thread.sleep(2000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          respond(exchange, 200, new byte[1]);
        }
        case "/confirm" -> respond(exchange, 200, "<ConfirmSubscriptionResponse/>".getBytes());
        default -> respond(exchange, 403, "<Error/>".getBytes());
      }
    });
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private static void respond(com.sun.net.httpserver.HttpExchange exchange, int status, byte[] body)
      throws java.io.IOException {
    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      exchange.getResponseBody().write(body);
    }
    exchange.close();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private static <T> T join(java.util.concurrent.CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().join();
    } catch (CompletionException e) {
      throw (RuntimeException) e.getCause();
    }
  }

  @Test
  void fetchesTheBodyOfA200() {
    assertThat(new String(join(http.fetch(URI.create(base + "/cert.pem"))))).startsWith("-----BEGIN CERTIFICATE-----");
  }

  @Test
  void redirectIsNotFollowed() {
    assertThatThrownBy(() -> join(http.fetch(URI.create(base + "/redirect"))))
        .isInstanceOfSatisfying(SnsUnavailable.class, e -> assertThat(e.upstreamAnswered()).isTrue())
        .hasMessageContaining("302");
    assertThat(hits).containsExactly("/redirect");
  }

  @Test
  void answerOverTheLimitIsCutOff() {
    assertThatThrownBy(() -> join(http.fetch(URI.create(base + "/huge"))))
        .isInstanceOf(SnsUnavailable.class)
        .hasMessageContaining("larger than 1024 bytes");
  }

  @Test
  void slowAnswerTimesOutAsUnavailable() {
    assertThatThrownBy(() -> join(http.fetch(URI.create(base + "/slow"))))
        .isInstanceOfSatisfying(SnsUnavailable.class, e -> {
          assertThat(e.upstreamAnswered()).isFalse();
          assertThat(e.code()).isEqualTo("certificate_unavailable");
        });
  }

  @Test
  void confirmationSucceedsOn2xxAndFailsOnAnErrorStatus() {
    join(http.confirm(URI.create(base + "/confirm?Action=ConfirmSubscription")));

    assertThatThrownBy(() -> join(http.confirm(URI.create(base + "/refused"))))
        .isInstanceOfSatisfying(SnsUnavailable.class, e -> {
          assertThat(e.code()).isEqualTo("confirmation_failed");
          assertThat(e.upstreamAnswered()).isTrue();
        });
    assertThat(hits).containsExactly("/confirm", "/refused");
  }

  @Test
  void unreachableHostIsUnavailable() {
    server.stop(0);

    assertThatThrownBy(() -> join(http.confirm(URI.create(base + "/confirm"))))
        .isInstanceOfSatisfying(SnsUnavailable.class, e -> assertThat(e.code()).isEqualTo("confirmation_unavailable"));
  }
}
