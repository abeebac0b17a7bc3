package warmgate.http;

import static org.assertj.core.api.Assertions.assertThat;
import static warmgate.http.ApiAssertions.assertError;
import static warmgate.http.ApiAssertions.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import warmgate.auth.TestTokens;
import warmgate.index.IndexRows;
import warmgate.index.JdbcJobIndex;
import warmgate.index.TestDatabase;
import warmgate.ingest.s3.S3Routes;
import warmgate.job.JobStatus;

// Real HTTP on loopback and a real H2 job index (rows written by the projection's fold); no entities, no journal reads.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JobListRouteTest {
  private static final Instant T = Instant.parse("2026-11-23T10:00:00Z");
  private final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString(
      "pekko.remote.artery.canonical.port = 0")
      .withFallback(ConfigFactory.load()));
  private final HttpClient http = HttpClient.newHttpClient();
  private TestDatabase db;
  private String base;

  @BeforeAll
  void bind() throws Exception {
    db = TestDatabase.h2(Files.createTempDirectory("warmgate-list"));
    var index = new JdbcJobIndex(db.pool, testKit.system().dispatchers().lookup(DispatcherSelector.blocking()));
    IndexRows rows = new IndexRows(db.pool);
    // alice: 5 jobs, one a minute; bob: 2 jobs on another endpoint.
    rows.job("alice-1", "alice", "gen3d", T, JobStatus.SUCCEEDED);
    rows.job("alice-2", "alice", "gen3d", T.plusSeconds(60), JobStatus.FAILED);
    rows.job("alice-3", "alice", "gen3d", T.plusSeconds(120), JobStatus.QUEUED);
    rows.job("alice-4", "alice", "gen3d", T.plusSeconds(180), JobStatus.RUNNING);
    rows.job("alice-5", "alice", "gen3d", T.plusSeconds(240), JobStatus.QUEUED);
    rows.job("bob-1", "bob", "other", T.plusSeconds(30), JobStatus.QUEUED);
    rows.job("bob-2", "bob", "other", T.plusSeconds(300), JobStatus.CANCELLED);
    var server = HttpServer.builder(new JobRoutes(null, null, index, Set.of("gen3d", "other"), null),
        new EndpointRoutes(null),
        new Authentication(TestTokens.authenticator())).notifications(new S3Routes(null)).build();
    base = "http://127.0.0.1:" + server.start(testKit.system(), "127.0.0.1",
        0).toCompletableFuture().join().localAddress().getPort();
  }

  @AfterAll
  void shutdown() {
    testKit.shutdownTestKit();
    db.close();
  }

  private HttpResponse<String> get(String query, String token) throws Exception {
    var request = HttpRequest.newBuilder(URI.create(base + "/v1/jobs" + query)).GET();
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static List<String> ids(HttpResponse<String> response) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    json(response).path("jobs").forEach(job -> ids.add(job.path("jobId").asText()));
    return ids;
  }

  @Test
  void anAdminListsEveryJobNewestFirstAndPagesThroughThemWithTheCursor() throws Exception {
    List<String> seen = new ArrayList<>();
    String query = "?limit=3";
    int pages = 0;
    while (query != null) {
      HttpResponse<String> page = get(query, TestTokens.ADMIN);
      seen.addAll(ids(page));
      pages++;
      JsonNode next = json(page).path("nextCursor");
      query = next.isNull() ? null : "?limit=3&cursor=" + URLEncoder.encode(next.asText(), StandardCharsets.UTF_8);
    }

    assertThat(pages).isEqualTo(3);
    assertThat(seen).containsExactly("bob-2", "alice-5", "alice-4", "alice-3", "alice-2", "bob-1", "alice-1");
  }

  @Test
  void eachJobCarriesTheFieldsOfTheContract() throws Exception {
    JsonNode job = json(get("?status=FAILED", TestTokens.ADMIN)).path("jobs").get(0);

    assertThat(job.path("jobId").asText()).isEqualTo("alice-2");
    assertThat(job.path("status").asText()).isEqualTo("FAILED");
    assertThat(job.path("endpoint").asText()).isEqualTo("gen3d");
    assertThat(job.path("owner").asText()).isEqualTo("alice");
    assertThat(job.path("attempts").asInt()).isZero();
    assertThat(job.path("createdAt").asText()).isEqualTo("2026-11-23T10:01:00Z");
    assertThat(job.path("updatedAt").asText()).isEqualTo("2026-11-23T10:01:01Z");
    assertThat(job.path("output").asText()).isEqualTo("s3://gen3d/users/alice/output/alice-2.ply");
    assertThat(job.path("error").asText()).isEqualTo("the inputs could not be read");
  }

  @Test
  void filtersByRepeatedOrCommaSeparatedStatusEndpointOwnerAndCreationTime() throws Exception {
    assertThat(ids(get("?status=QUEUED&status=CANCELLED", TestTokens.ADMIN))).containsExactly("bob-2", "alice-5",
        "alice-3", "bob-1");
    assertThat(ids(get("?status=queued,cancelled", TestTokens.ADMIN))).containsExactly("bob-2", "alice-5", "alice-3",
        "bob-1");
    assertThat(ids(get("?endpoint=other", TestTokens.ADMIN))).containsExactly("bob-2", "bob-1");
    assertThat(ids(get("?owner=alice&status=QUEUED", TestTokens.ADMIN))).containsExactly("alice-5", "alice-3");
    assertThat(ids(get("?from=2026-11-23T10:01:00Z&to=2026-11-23T10:04:00Z", TestTokens.ADMIN)))
        .as("from inclusive, to exclusive").containsExactly("alice-4", "alice-3", "alice-2");
  }

  @Test
  void aUserSeesOnlyItsOwnJobs() throws Exception {
    assertThat(ids(get("", TestTokens.BOB))).containsExactly("bob-2", "bob-1");
    assertThat(ids(get("?owner=bob&status=QUEUED", TestTokens.BOB))).containsExactly("bob-1");
    assertThat(ids(get("?endpoint=gen3d", TestTokens.BOB))).isEmpty();
  }

  @Test
  void aUserNamingAnotherOwnerIsForbidden() throws Exception {
    JsonNode error = assertError(get("?owner=alice", TestTokens.BOB), 403, "forbidden");

    assertThat(error.path("message").asText()).contains("owner");
  }

  @Test
  void withoutATokenTheListIsRefused() throws Exception {
    assertError(get("", null), 401, "unauthorized");
  }

  @Test
  void badParametersAreA400NamingTheParameter() throws Exception {
    String[][] cases = {
        {"?status=DONE", "status"},
        {"?status=QUEUED,", "status"},
        {"?limit=0", "limit"},
        {"?limit=501", "limit"},
        {"?limit=ten", "limit"},
        {"?from=yesterday", "from"},
        {"?to=2026-11-23", "to"},
        {"?from=2026-11-23T10:00:00Z&to=2026-11-23T10:00:00Z", "to"},
        {"?cursor=not-a-cursor", "cursor"},
        {"?endpoint=gen3d&endpoint=other", "endpoint"},
        {"?owner=", "owner"}};
    for (String[] c : cases) {
      JsonNode error = assertError(get(c[0], TestTokens.ADMIN), 400, "invalid_query");
      assertThat(error.path("message").asText()).as(c[0]).startsWith("query parameter " + c[1] + ":");
    }
  }

  @Test
  void theLargestPageIsFiveHundred() throws Exception {
    assertThat(ids(get("?limit=500", TestTokens.ADMIN))).hasSize(7);
  }
}
