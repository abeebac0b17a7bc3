package warmgate.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import warmgate.Json;

// `warmgate audit` run in this JVM with picocli, on a real H2 journal written by the real entities.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditCommandTest {
  private static final String FROM = "2020-01-01T00:00:00Z";
  private AuditJournal journal;
  private String to;

  /** What one run printed and answered. */
  record Run(int status, String out, String err) {
    List<String> outLines() {
      return out.lines().toList();
    }

    List<String> errLines() {
      return err.lines().toList();
    }
  }

  @BeforeAll
  void fill() throws Exception {
    journal = AuditJournal.create();
    to = Instant.now().plus(1, ChronoUnit.HOURS).toString();
  }

  @AfterAll
  void close() {
    journal.close();
  }

  /** The table as the contract describes it, empty before each test. */
  @BeforeEach
  void emptyJobIndex() throws SQLException {
    try (Connection c = journal.connect(); Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS job_index");
      s.execute("""
          CREATE TABLE job_index (
            job_id VARCHAR(255) PRIMARY KEY, status VARCHAR(32) NOT NULL, endpoint VARCHAR(255) NOT NULL,
            owner VARCHAR(255) NULL, attempts INT NOT NULL, created_at TIMESTAMP WITH TIME ZONE NOT NULL,
            updated_at TIMESTAMP WITH TIME ZONE NOT NULL, output VARCHAR(2048) NULL, error VARCHAR(4096) NULL,
            last_seq_nr BIGINT NOT NULL)""");
    }
  }

  private Run run(Config config, boolean terminal, String... args) {
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    var env = new AuditCommand.Env(() -> config, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), terminal, Clock.systemUTC());
    int status = AuditCommand.run(env, args);
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private Run run(String... args) {
    return run(journal.nodeConfig, false, args);
  }

  // ---- timeline

  @Test
  void timelineShowsEachEventOfTheJobWithItsTimeElapsedTimeAndFacts() {
    Run run = run("timeline", AuditJournal.ALICE_JOB);

    assertThat(run.status()).as(run.err()).isZero();
    List<String> lines = run.outLines();
    assertThat(lines.get(0)).isEqualTo("Job job-alice on endpoint gen3d, owner alice, 4 event(s)");
    assertThat(lines.subList(1, 5)).satisfiesExactly(
        submitted -> assertThat(submitted).contains("+0.000s", "#1", "JobSubmitted",
            "inputs=image:s3://gen3d/users/alice/input/cat_image.png,",
            "output=s3://gen3d/users/alice/output/cat.ply", "source=s3://gen3d/users/alice/input/cat_image.png"),
        queued -> assertThat(queued).contains("#2", "JobQueued"),
        started -> assertThat(started).contains("#3", "AttemptStarted", "attempt=1", "leaseId="),
        succeeded -> assertThat(succeeded).contains("#4", "JobSucceeded", "attempt=1", "outputETag="));
    assertThat(lines.get(1)).matches("  20\\d\\d-\\d\\d-\\d\\dT.*Z .*");
    assertThat(lines.get(4)).matches(".* \\+\\d+\\.\\d{3}s .*");
    assertThat(lines.get(5)).startsWith("Now SUCCEEDED after 1 attempt(s), ");
  }

  @Test
  void timelineOfAJobTheJournalDoesNotHaveFailsWithStatus1() {
    Run run = run("timeline", "no-such-job");

    assertThat(run.status()).isEqualTo(1);
    assertThat(run.errLines()).containsExactly("warmgate audit: the journal has no job no-such-job");
    assertThat(run.out()).isEmpty();
  }

  // ---- export

  @Test
  void exportWritesEveryEventOfTheRangeToTheFileAndSaysHowMany() throws Exception {
    Path file = journal.dataDir.resolve("export.ndjson");

    Run run = run("export", "--from", FROM, "--to", to, "--out", file.toString());

    assertThat(run.status()).as(run.err()).isZero();
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(journal.rows().size()).hasSize(12);
    List<String> keys = lines.stream().map(AuditCommandTest::key).toList();
    assertThat(keys).containsExactlyElementsOf(journal.rows().stream().map(r -> r.persistenceId() + "#"
        + r.seqNr()).toList());
    JsonNode first = Json.mapper().readTree(lines.get(0));
    assertThat(first.path("entity").asText()).isEqualTo("Request");
    assertThat(first.path("type").asText()).isEqualTo("JobSubmitted");
    assertThat(run.errLines()).as("not a terminal: no bar, one summary line").singleElement().asString()
        .startsWith("exported 12 event(s) to " + file + " in ").endsWith("events/s)");
    assertThat(run.out()).isEmpty();
    assertThat(journal.dataDir.resolve("export.ndjson.part")).doesNotExist();
  }

  @Test
  void exportToAFolderThatDoesNotExistFailsInOneLine() {
    Path file = journal.dataDir.resolve("no-such-folder").resolve("export.ndjson");

    Run run = run("export", "--from", FROM, "--to", to, "--out", file.toString());

    assertThat(run.status()).isEqualTo(1);
    assertThat(run.errLines()).singleElement().asString().isEqualTo("warmgate audit: cannot write " + file
        + ".part (NoSuchFileException)");
  }

  @Test
  void exportOfAPartOfTheJournalToStdoutHoldsOnlyThatPart() throws Exception {
    long from = journal.row("Request|" + AuditJournal.BOB_JOB, 1).writeTimestamp();
    long until = journal.row("Endpoint|" + AuditJournal.ENDPOINT, 4).writeTimestamp();

    Run run = run("export", "--from", Instant.ofEpochMilli(from).atOffset(ZoneOffset.ofHours(-5)).toString(),
        "--to", Instant.ofEpochMilli(until).toString());

    assertThat(run.status()).as(run.err()).isZero();
    assertThat(run.outLines()).extracting(AuditCommandTest::key).containsExactlyElementsOf(journal.rows().stream()
        .filter(r -> r.writeTimestamp() >= from && r.writeTimestamp() < until).map(r -> r.persistenceId() + "#"
            + r.seqNr()).toList())
        .contains("Request|job-bob#1");
  }

  @Test
  void exportOnATerminalCountsFirstThenDrawsABar() {
    Run run = run(journal.nodeConfig, true, "export", "--from", FROM, "--to", to, "--out",
        journal.dataDir.resolve("bar.ndjson").toString());

    assertThat(run.status()).as(run.err()).isZero();
    assertThat(run.errLines().get(0)).isEqualTo("12 event(s) between " + FROM + " and " + Instant.parse(to));
    assertThat(run.err()).contains("\r[").contains("] 100%  12/12  ").contains(" events/s");
    assertThat(run.errLines().get(run.errLines().size() - 1)).startsWith("exported 12 event(s) to ");
  }

  private static String key(String line) {
    try {
      JsonNode event = Json.mapper().readTree(line);
      String prefix = event.path("entity").asText().equals("Request") ? "Request|" : "Endpoint|";
      return prefix + event.path("id").asText() + "#" + event.path("seqNr").asLong();
    } catch (java.io.IOException e) {
      throw new AssertionError("not JSON: " + line, e);
    }
  }

  // ---- check

  /** A row that says what the journal says, from the events as stored (their own instants, not the fold's). */
  private void index(String jobId, String owner, String status, int attempts, long lastSeqNr) throws Exception {
    List<StoredEvent> events = new JournalReader(journal.testKit.system(),
        journal.database).job(jobId).toCompletableFuture().join();
    Instant createdAt = ((warmgate.request.Request.Event) events.get(0).event()).at();
    Instant updatedAt = ((warmgate.request.Request.Event) events.get(events.size() - 1).event()).at();
    try (Connection c = journal.connect(); PreparedStatement insert = c.prepareStatement(
        "INSERT INTO job_index (job_id, status, endpoint, owner, attempts, created_at, updated_at, output, error, "
            + "last_seq_nr) "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)")) {
      insert.setString(1, jobId);
      insert.setString(2, status);
      insert.setString(3, AuditJournal.ENDPOINT);
      insert.setString(4, owner);
      insert.setInt(5, attempts);
      insert.setObject(6, createdAt.atOffset(ZoneOffset.UTC));
      insert.setObject(7, updatedAt.atOffset(ZoneOffset.UTC));
      insert.setString(8, "s3://gen3d/users/" + owner + "/output/cat.ply");
      insert.setLong(9, lastSeqNr);
      insert.executeUpdate();
    }
  }

  @Test
  void checkOfRowsThatSayWhatTheJournalSaysExitsWith0() throws Exception {
    index(AuditJournal.ALICE_JOB, "alice", "SUCCEEDED", 1, 4);
    index(AuditJournal.BOB_JOB, "bob", "SUCCEEDED", 1, 4);

    Run run = run("check", AuditJournal.ALICE_JOB, AuditJournal.BOB_JOB);

    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.outLines()).containsExactly("checked 2 job(s): 2 match job_index, 0 differ");
  }

  @Test
  void checkPrintsEveryDifferenceAndExitsWith1() throws Exception {
    index(AuditJournal.ALICE_JOB, "alice", "SUCCEEDED", 1, 4);
    index(AuditJournal.BOB_JOB, "bob", "RUNNING", 2, 3);

    Run run = run("check", AuditJournal.ALICE_JOB, AuditJournal.BOB_JOB);

    assertThat(run.status()).isEqualTo(1);
    assertThat(run.outLines()).containsExactly(
        "job-bob: status: journal SUCCEEDED, job_index RUNNING",
        "job-bob: attempts: journal 1, job_index 2",
        "job-bob: last_seq_nr: journal 4, job_index 3",
        "checked 2 job(s): 1 match job_index, 1 differ");
  }

  @Test
  void checkOfAllFindsJobsMissingFromTheIndexAndRowsWithoutEvents() throws Exception {
    index(AuditJournal.ALICE_JOB, "alice", "SUCCEEDED", 1, 4);
    try (Connection c = journal.connect(); Statement s = c.createStatement()) {
      s.execute("INSERT INTO job_index VALUES ('job-ghost', 'QUEUED', 'gen3d', 'carol', 0, TIMESTAMP WITH TIME ZONE "
          + "'2026-01-01 00:00:00+00', "
          + "TIMESTAMP WITH TIME ZONE '2026-01-01 00:00:00+00', NULL, NULL, 2)");
    }

    Run run = run("check", "--all");

    assertThat(run.status()).isEqualTo(1);
    assertThat(run.outLines()).containsExactly(
        "job-bob: missing from job_index; the journal has 4 event(s) and says SUCCEEDED",
        "job-ghost: in job_index, but the journal has no event of it",
        "checked 3 job(s): 1 match job_index, 2 differ");
  }

  @Test
  void checkWithoutJobsOrWithBothJobsAndAllIsAUsageError() {
    Run none = run("check");
    Run both = run("check", "--all", AuditJournal.ALICE_JOB);

    assertThat(none.status()).isEqualTo(2);
    assertThat(none.err()).contains("name the jobs to check, or --all").contains("Usage: warmgate audit check");
    assertThat(both.status()).isEqualTo(2);
    assertThat(both.err()).contains("name job ids or --all, not both");
  }

  @Test
  void checkWithoutAJobIndexTableSaysSoInOneLine() throws Exception {
    try (Connection c = journal.connect(); Statement s = c.createStatement()) {
      s.execute("DROP TABLE job_index");
    }

    Run run = run("check", AuditJournal.ALICE_JOB);

    assertThat(run.status()).isEqualTo(1);
    assertThat(run.errLines()).singleElement().asString()
        .startsWith("warmgate audit: there is no job_index table in jdbc:h2:file:");
  }

  // ---- cost

  @Test
  void costSharesTheEndpointsBillBetweenAliceAndBob() throws Exception {
    Run byEndpoint = run("cost", "--from", FROM, "--to", to, "--json");
    Run byOwner = run("cost", "--from", FROM, "--to", to, "--by", "owner", "--json");

    assertThat(byEndpoint.status()).as(byEndpoint.err()).isZero();
    JsonNode endpoints = Json.mapper().readTree(byEndpoint.out());
    assertThat(endpoints.path("by").asText()).isEqualTo("endpoint");
    JsonNode gen3d = endpoints.path("endpoints").get(0);
    assertThat(gen3d.path("endpoint").asText()).isEqualTo("gen3d");
    assertThat(gen3d.path("starts").asInt()).isEqualTo(1);
    double billed = gen3d.path("billedSeconds").asDouble();
    assertThat(billed).isPositive().isGreaterThanOrEqualTo(gen3d.path("runningSeconds").asDouble());

    assertThat(byOwner.status()).as(byOwner.err()).isZero();
    JsonNode owners = Json.mapper().readTree(byOwner.out());
    assertThat(owners.path("owners")).extracting(o -> o.path("owner").asText()).containsExactlyInAnyOrder("alice",
        "bob");
    assertThat(owners.path("owners")).allSatisfy(o -> assertThat(o.path("jobs").asInt()).isEqualTo(1));
    double shared = 0;
    for (JsonNode owner : owners.path("owners")) {
      shared += owner.path("billedSeconds").asDouble();
    }
    assertThat(shared).isCloseTo(billed, org.assertj.core.api.Assertions.within(0.002));
    assertThat(owners.path("unattributedSeconds").asDouble()).isZero();
  }

  @Test
  void costPrintsATableByDefault() {
    Run run = run("cost", "--from", FROM, "--to", to);

    assertThat(run.status()).as(run.err()).isZero();
    assertThat(run.outLines().get(1)).matches("ENDPOINT +BILLED s +JOBS RAN s +STARTS");
    assertThat(run.outLines().get(2)).matches("gen3d +\\d+\\.\\d +\\d+\\.\\d +1");
    assertThat(run.outLines().get(3)).startsWith("TOTAL");
  }

  // ---- usage and failures

  @Test
  void badArgumentsAreUsageErrorsWithStatus2() {
    assertThat(run().status()).isEqualTo(2);
    assertThat(run("frobnicate").status()).isEqualTo(2);
    assertThat(run("timeline").status()).isEqualTo(2);
    Run badInstant = run("export", "--from", "yesterday", "--to", to);
    assertThat(badInstant.status()).isEqualTo(2);
    assertThat(badInstant.err()).contains("from 'yesterday' is not an ISO-8601 instant")
        .contains("Usage: warmgate audit export");
    assertThat(run("export", "--to", to).status()).as("--from is required").isEqualTo(2);
    assertThat(run("cost", "--from", to, "--to", FROM).err()).contains("must be later than from");
    assertThat(run("cost", "--from", FROM, "--to", to, "--by", "colour").status()).isEqualTo(2);
  }

  @Test
  void helpListsTheCommands() {
    Run run = run("help");

    assertThat(run.status()).isZero();
    assertThat(run.out()).contains("timeline", "export", "check", "cost");
  }

  @Test
  void unreachableDatabaseIsOneLineAndStatus1() {
    Config postgres = ConfigFactory.parseMap(Map.of("warmgate.database.url", "jdbc:postgresql://127.0.0.1:1/nothing"))
        .withFallback(journal.nodeConfig);

    Run run = run(postgres, false, "timeline", AuditJournal.ALICE_JOB);

    assertThat(run.status()).isEqualTo(1);
    assertThat(run.errLines()).singleElement().asString()
        .startsWith("warmgate audit: cannot read the journal at jdbc:postgresql://127.0.0.1:1/nothing: ");
  }

  @Test
  void missingEmbeddedJournalIsReportedAndNotCreated() throws Exception {
    Path empty = Files.createTempDirectory("warmgate-audit-empty");
    Config elsewhere = ConfigFactory.parseMap(Map.of("warmgate.data-dir",
        empty.toString())).withFallback(journal.nodeConfig);

    Run run = run(elsewhere, false, "cost", "--from", FROM, "--to", to);

    assertThat(run.status()).isEqualTo(1);
    assertThat(run.errLines()).singleElement().asString()
        .startsWith("warmgate audit: cannot read the journal at jdbc:h2:file:" + empty);
    try (var files = Files.list(empty)) {
      assertThat(files).as("no empty journal left behind").isEmpty();
    }
  }
}
