package warmgate.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.HttpEncodings;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Rejection;
import org.apache.pekko.http.javadsl.server.Rejections;
import org.apache.pekko.http.javadsl.server.Route;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.config.WebhookSettings;
import warmgate.gateway.EndpointStates;
import warmgate.gateway.JobJournal;
import warmgate.ingest.RouteIngestion;
import warmgate.ingest.RouteTable;
import warmgate.ingest.TestRoutes;
import warmgate.ingest.s3.S3Routes;

// Real HTTP on loopback, raw sockets: the edge's routes and Pekko's own parser with the production http.conf; fake
// services, no journal.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ErrorShapeTest {
  /** Below the server-wide max-content-length, so both the routes' and the parser's limit can be crossed. */
  private static final long ROUTE_LIMIT = 1024;

  private final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString(
      "pekko.http.server.parsing.max-content-length = 64k\npekko.remote.artery.canonical.port = 0")
          .withFallback(ConfigFactory.load()));
  private int port;
  private int rejectionsPort;

  @BeforeAll
  void bind() {
    var jobs = new HttpEdgeTest.FakeJobs();
    JobJournal journal = jobId -> CompletableFuture.completedFuture(List.of());
    RouteTable routes = TestRoutes.gen3d();
    var webhooks = new WebhookSettings("s3cret", List.of("hooks.example.com"), false,
        Duration.ofSeconds(5), 3, Duration.ofSeconds(1), Duration.ofSeconds(10));
    var server = HttpServer.builder(new JobRoutes(jobs, journal, Set.of("gen3d"), webhooks),
        new EndpointRoutes(unusedEndpoints()),
            new Authentication(TestTokens.authenticator()))
        .notifications(new S3Routes(new RouteIngestion(routes, jobs))).maxBodyBytes(ROUTE_LIMIT).build();
    port = server.start(testKit.system(), "127.0.0.1", 0).toCompletableFuture().join().localAddress().getPort();
    rejectionsPort = Http.get(testKit.system()).newServerAt("127.0.0.1",
        0).bind(rejecting()).toCompletableFuture().join()
        .localAddress().getPort();
  }

  @AfterAll
  void shutdown() {
    testKit.shutdownTestKit();
  }

  private static EndpointStates unusedEndpoints() {
    return (EndpointStates) java.lang.reflect.Proxy.newProxyInstance(EndpointStates.class.getClassLoader(),
        new Class<?>[] {EndpointStates.class}, (proxy, method, args) -> {
          throw new AssertionError("no test here reaches an endpoint: " + method.getName());
        });
  }

  private static final String AUTH = "Authorization: Bearer " + TestTokens.ADMIN + "\r\n";

  /** {@code head}: the request line and header lines, each ending in CRLF; the blank line is added. */
  private static byte[] request(String head) {
    return bytes(head + "\r\n");
  }

  private static byte[] bytes(String raw) {
    return raw.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] get(String target, String headers) {
    return request("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH + headers);
  }

  private static byte[] withLength(String path, int bytes) {
    return bytes("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH
        + "Content-Type: application/json\r\nContent-Length: " + bytes + "\r\n\r\n" + "x".repeat(bytes));
  }

  private static byte[] chunked(String path, int bytes) {
    var body = new StringBuilder();
    for (int sent = 0; sent < bytes; sent += 256) {
      body.append("100\r\n").append("x".repeat(256)).append("\r\n");
    }
    return bytes("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH
        + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + body + "0\r\n\r\n");
  }

  static Stream<Arguments> malformedAndRefusedRequests() {
    String manyHeaders = IntStream.range(0, 70).mapToObj(i -> "X-Filler-" + i
        + ": x\r\n").collect(Collectors.joining());
    return Stream.of(
        Arguments.of("URI over max-uri-length", get("/v1/jobs/" + "a".repeat(3000), ""), 414, "uri_too_long"),
        Arguments.of("header value over max-header-value-length", get("/v1/jobs/x", "X-Big: " + "v".repeat(9000)
            + "\r\n"), 431, "headers_too_large"),
        Arguments.of("header name over max-header-name-length", get("/v1/jobs/x", "X-" + "n".repeat(100) + ": v\r\n"),
            431, "headers_too_large"),
        Arguments.of("more headers than max-header-count", get("/v1/jobs/x", manyHeaders), 400, "bad_request"),
        Arguments.of("request-target that is not a URI", get("http://[oops/", ""), 400, "bad_request"),
        Arguments.of("request line without a version", request("GET /v1/jobs/x\r\nHost: 127.0.0.1\r\n"), 505,
            "http_version_not_supported"),
        Arguments.of("request line of control characters", request("\u0001\u0002 what\r\n"), 501, "not_implemented"),
        Arguments.of("header line without a colon", get("/v1/jobs/x", "Not a header\r\n"), 400, "bad_request"),
        Arguments.of("Content-Length that is not a number", get("/v1/jobs/x", "Content-Length: lots\r\n"), 400,
            "bad_request"),
        Arguments.of("HTTP/2.0 on the HTTP/1.1 port", request("GET /v1/jobs/x HTTP/2.0\r\nHost: 127.0.0.1\r\n"), 505,
            "http_version_not_supported"),
        Arguments.of("HTTP/1.2", request("GET /v1/jobs/x HTTP/1.2\r\nHost: 127.0.0.1\r\n"), 505,
            "http_version_not_supported"),
        Arguments.of("unknown method", request("BREW /v1/jobs/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"), 501,
            "not_implemented"),
        Arguments.of("unsupported Transfer-Encoding", get("/v1/jobs/x", "Transfer-Encoding: gzip\r\n"), 400,
            "bad_request"),
        // Pekko enforces max-content-length as the body is read, not when it parses the headers: no route reads this
        // one.
        Arguments.of("Content-Length over max-content-length to an unknown path", withLength("/nowhere", 70_000), 404,
            "not_found"),
        Arguments.of("Content-Length over max-content-length", withLength("/v1/jobs", 70_000), 413, "body_too_large"),
        Arguments.of("wrong method", request("DELETE /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n" + AUTH), 405,
            "method_not_allowed"),
        Arguments.of("Content-Length over the route's limit", withLength("/v1/jobs", 2000), 413, "body_too_large"),
        Arguments.of("chunked body over the route's limit", chunked("/v1/jobs", 4000), 413, "body_too_large"),
        Arguments.of("chunked body over max-content-length", chunked("/v1/jobs", 70_000), 413, "body_too_large"),
        Arguments.of("unknown path", get("/nowhere", ""), 404, "not_found"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedAndRefusedRequests")
  void everyRefusalIsTheJsonErrorWithTheStatusPekkoChose(String name, byte[] request, int status, String code)
      throws Exception {
    assertJsonError(exchange(port, request), status, code);
  }

  @Test
  void controlCharactersInTheRequestLineAreNotReflectedInTheAnswer() throws Exception {
    for (String target : List.of("/v1/jobs/\u001b[31mred\u0007", "/v1/\u0000nul", "/\u0008%ff\u007f")) {
      var response = exchange(port, get(target, ""));

      assertJsonError(response, 400, "bad_request");
      assertThat(response.body()).as(target).doesNotContainPattern("[\\x00-\\x1f\\x7f]").doesNotContain("red", "nul",
          "%ff");
    }
  }

  /** Every rejection Pekko's default handler knows, from a route that only rejects, through the edge's handler. */
  private Route rejecting() {
    Map<String, Rejection> rejections = Map.<String, Rejection>of(
        "encoding", Rejections.unsupportedRequestEncoding(HttpEncodings.GZIP),
        "missing-query", Rejections.missingQueryParam("limit"),
        "validation", Rejections.validationRejection("\u001b[31m whatever the route said"),
        "ranges", Rejections.tooManyRanges(4),
        "media-type", Rejections.unsupportedRequestContentType(List.of(MediaTypes.APPLICATION_JSON)),
        "scheme", Rejections.scheme("https"),
        "cookie", Rejections.missingCookie("session"),
        "method", Rejections.method(HttpMethods.POST),
        "query", Rejections.malformedQueryParam("limit", "\u001b[31m not a number"));
    var d = new AllDirectives() {};
    return d.handleRejections(ApiErrors.rejectionHandler(), () -> d.path(PathMatchers.segment(),
        name -> d.reject(rejections.get(name))));
  }

  static Stream<Arguments> rejections() {
    return Stream.of(
        Arguments.of("encoding", 400, "bad_request"),
        Arguments.of("missing-query", 404, "not_found"),
        Arguments.of("validation", 400, "bad_request"),
        Arguments.of("ranges", 416, "range_not_satisfiable"),
        Arguments.of("media-type", 415, "unsupported_media_type"),
        Arguments.of("scheme", 400, "bad_request"),
        Arguments.of("cookie", 400, "bad_request"),
        Arguments.of("method", 405, "method_not_allowed"),
        Arguments.of("query", 400, "invalid_query"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rejections")
  void everyRejectionIsTheJsonError(String path, int status, String code) throws Exception {
    assertJsonError(exchange(rejectionsPort, request("GET /" + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n")), status,
        code);
  }

  /** The server answers and closes; a reset racing the answer is retried, a wrong answer fails at once. */
  private static RawHttp.Response exchange(int port, byte[] request) throws IOException {
    IOException last = null;
    for (int i = 0; i < 3; i++) {
      try {
        return RawHttp.exchange(port, request);
      } catch (IOException reset) {
        last = reset;
      }
    }
    throw last;
  }

  private static void assertJsonError(RawHttp.Response response, int status, String code) throws Exception {
    assertThat(response.status()).as(response.body()).isEqualTo(status);
    assertThat(response.contentType()).isEqualTo("application/json");
    JsonNode error = Json.mapper().readTree(response.body()).path("error");
    assertThat(error.path("code").asText()).as(response.body()).isEqualTo(code);
    // Neither raw in the body nor escaped in the JSON string, where a client printing the message would meet it.
    assertThat(response.body()).doesNotContainPattern("[\\x00-\\x1f\\x7f]");
    assertThat(error.path("message").asText()).isNotBlank().doesNotContainPattern("\\p{Cntrl}");
  }
}
