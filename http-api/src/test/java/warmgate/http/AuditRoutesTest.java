package warmgate.http;

import static org.assertj.core.api.Assertions.assertThat;
import static warmgate.http.ApiAssertions.assertError;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import warmgate.Json;
import warmgate.audit.AuditJournal;
import warmgate.audit.AuditLog;
import warmgate.audit.JournalReader;
import warmgate.auth.TestTokens;
import warmgate.config.WebhookSettings;
import warmgate.gateway.TryLater;
import warmgate.ingest.s3.S3Routes;

// Real HTTP on loopback, GET /v1/audit/events over a real H2 journal written by the real entities.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditRoutesTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private AuditJournal journal;
  private String base;
  /** The same edge with an audit log whose database does not answer. */
  private String broken;

  @BeforeAll
  void start() throws Exception {
    journal = AuditJournal.create();
    var webhooks = new WebhookSettings("unused", List.of(), false, Duration.ofSeconds(5), 3, Duration.ofSeconds(1),
        Duration.ofSeconds(10));
    // Jobs, notifications and endpoints are not called here: their routes are mounted without services behind them.
    var server = HttpServer.builder(new JobRoutes(null, null, Set.of(AuditJournal.ENDPOINT), webhooks),
        new EndpointRoutes(null),
            new Authentication(TestTokens.authenticator()))
        .notifications(new S3Routes(null)).maxBodyBytes(1024 * 1024)
        .audit(new AuditRoutes(new JournalReader(journal.testKit.system(), journal.database))).build();
    ServerBinding binding = server.start(journal.testKit.system(), "127.0.0.1", 0).toCompletableFuture().join();
    base = "http://127.0.0.1:" + binding.localAddress().getPort();

    AuditLog down = range -> CompletableFuture.failedFuture(new TryLater(
        "the journal database did not answer (connection refused)"));
    var brokenServer = HttpServer.builder(new JobRoutes(null, null, Set.of(AuditJournal.ENDPOINT), webhooks),
        new EndpointRoutes(null),
            new Authentication(TestTokens.authenticator()))
        .notifications(new S3Routes(null)).maxBodyBytes(1024 * 1024).audit(new AuditRoutes(down)).build();
    broken = "http://127.0.0.1:" + brokenServer.start(journal.testKit.system(), "127.0.0.1",
        0).toCompletableFuture().join()
        .localAddress().getPort();
  }

  @AfterAll
  void stop() {
    journal.close();
  }

  private HttpResponse<String> get(String token, String query) throws Exception {
    return get(base, token, query);
  }

  private HttpResponse<String> get(String server, String token, String query) throws Exception {
    var request = HttpRequest.newBuilder(URI.create(server + "/v1/audit/events" + query)).GET();
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String query(Instant from, Instant to) {
    return "?from=" + from + "&to=" + to;
  }

  private static List<JsonNode> lines(HttpResponse<String> response) throws Exception {
    List<JsonNode> lines = new ArrayList<>();
    for (String line : response.body().split("\n")) {
      if (!line.isEmpty()) {
        lines.add(Json.mapper().readTree(line));
      }
    }
    return lines;
  }

  /** "Request|job-alice#1": how a line and a journal row name one event. */
  private static String key(JsonNode line) {
    String prefix = line.path("entity").asText().equals("Request") ? "Request|" : "Endpoint|";
    return prefix + line.path("id").asText() + "#" + line.path("seqNr").asLong();
  }

  private static String key(AuditJournal.Row row) {
    return row.persistenceId() + "#" + row.seqNr();
  }

  @Test
  void adminGetsEveryJobAndEndpointEventAsNdjsonInJournalOrder() throws Exception {
    var response = get(TestTokens.ADMIN, query(Instant.parse("2020-01-01T00:00:00Z"), Instant.now().plusSeconds(3600)));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/x-ndjson");
    assertThat(response.headers().firstValue("Transfer-Encoding")).as("streamed, not collected first")
        .hasValue("chunked");
    List<JsonNode> lines = lines(response);
    assertThat(lines).extracting(AuditRoutesTest::key).containsExactlyElementsOf(journal.rows().stream()
        .map(AuditRoutesTest::key).toList());
    assertThat(lines).filteredOn(l -> l.path("id").asText().equals(AuditJournal.ALICE_JOB))
        .extracting(l -> l.path("type").asText())
        .containsExactly("JobSubmitted", "JobQueued", "AttemptStarted", "JobSucceeded");
    assertThat(lines).filteredOn(l -> l.path("entity").asText().equals("EndpointLifecycle"))
        .allSatisfy(l -> assertThat(l.path("id").asText()).isEqualTo(AuditJournal.ENDPOINT))
        .extracting(l -> l.path("type").asText())
        .containsExactly("StartRequested", "CameIntoService", "StopRequested", "Stopped");
    JsonNode submitted = lines.get(0);
    assertThat(submitted.fieldNames()).toIterable().containsExactly("entity", "id", "seqNr", "timestamp", "type",
        "data");
    assertThat(submitted.path("data").path("spec").path("owner").asText()).isEqualTo("alice");
    assertThat(Instant.parse(submitted.path("timestamp").asText()).toEpochMilli())
        .isEqualTo(journal.row("Request|" + AuditJournal.ALICE_JOB, 1).writeTimestamp());
  }

  @Test
  void onlyEventsWrittenFromFromUntilToAreStreamed() throws Exception {
    long from = journal.row("Request|" + AuditJournal.BOB_JOB, 1).writeTimestamp();
    long to = journal.row("Endpoint|" + AuditJournal.ENDPOINT, 4).writeTimestamp();

    // The same instants written with an offset: what counts is the instant.
    String query = "?from=" + URLEncoder.encode(Instant.ofEpochMilli(from).atOffset(ZoneOffset.ofHours(2)).toString(),
        StandardCharsets.UTF_8)
        + "&to=" + Instant.ofEpochMilli(to);
    List<JsonNode> lines = lines(get(TestTokens.ADMIN, query));

    List<String> expected = journal.rows().stream().filter(r -> r.writeTimestamp() >= from && r.writeTimestamp() < to)
        .map(AuditRoutesTest::key).toList();
    assertThat(lines).extracting(AuditRoutesTest::key).containsExactlyElementsOf(expected)
        .contains("Request|" + AuditJournal.BOB_JOB + "#1")
        .doesNotContain("Request|" + AuditJournal.ALICE_JOB + "#1", "Endpoint|" + AuditJournal.ENDPOINT + "#4");
  }

  @Test
  void rangeWithoutEventsIsAnEmptyStream() throws Exception {
    var response = get(TestTokens.ADMIN, query(Instant.parse("2020-01-01T00:00:00Z"),
        Instant.parse("2020-01-02T00:00:00Z")));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEmpty();
  }

  @Test
  void tokenThatIsNotAnAdminsIsRefusedBeforeItsParametersAreLookedAt() throws Exception {
    assertError(get(TestTokens.ALICE, query(Instant.EPOCH, Instant.now())), 403, "forbidden");
    assertError(get(TestTokens.BOB, "?from=garbage"), 403, "forbidden");
    assertError(get(null, query(Instant.EPOCH, Instant.now())), 401, "unauthorized");
  }

  @Test
  void missingMalformedOrInvertedInstantsAreRefusedWith400() throws Exception {
    assertThat(assertError(get(TestTokens.ADMIN, "?to=2026-01-01T00:00:00Z"), 400,
        "invalid_query").path("message").asText())
        .contains("from is required");
    assertThat(assertError(get(TestTokens.ADMIN, "?from=2026-01-01T00:00:00Z"), 400,
        "invalid_query").path("message").asText())
        .contains("to is required");
    assertThat(assertError(get(TestTokens.ADMIN, "?from=yesterday&to=2026-01-01T00:00:00Z"), 400,
        "invalid_query").path("message").asText())
        .contains("from 'yesterday' is not an ISO-8601 instant");
    assertThat(assertError(get(TestTokens.ADMIN, "?from=2026-01-01T00:00:00&to=2026-01-02T00:00:00Z"), 400,
        "invalid_query")
        .path("message").asText()).as("an instant needs its offset").contains("with an offset");
    assertThat(assertError(get(TestTokens.ADMIN, "?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"), 400,
        "invalid_query")
        .path("message").asText()).contains("must be later than from");
    assertError(get(TestTokens.ADMIN, "?from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z"), 400, "invalid_query");
  }

  @Test
  void journalThatCannotBeQueriedAnswers503SoTheClientAsksAgain() throws Exception {
    var response = get(broken, TestTokens.ADMIN, query(Instant.EPOCH, Instant.now()));

    assertError(response, 503, "unavailable");
    assertThat(response.headers().firstValue("Retry-After")).isPresent();
  }
}
