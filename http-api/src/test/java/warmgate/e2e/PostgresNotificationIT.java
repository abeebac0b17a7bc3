package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import warmgate.audit.AuditCommand;
import warmgate.demo.SampleImages;
import warmgate.job.JobIds;

// Real PostgreSQL journal (a fresh database), real files in the bucket folder, the demo model as a real child process.
class PostgresNotificationIT {
  @TempDir Path dataDir;
  private Postgres postgres;
  private TestNode node;

  @BeforeEach
  void start() {
    postgres = new Postgres();
    Map<String, Object> settings = TestNode.defaults(dataDir, Ports.free());
    settings.put("warmgate.database.url", postgres.url);
    settings.put("warmgate.database.user", Postgres.USER);
    settings.put("warmgate.blob-store.local.watch-interval", "0s"); // notifications come over HTTP only
    node = TestNode.start(dataDir, settings);
  }

  @AfterEach
  void stop() {
    if (node != null) {
      node.closeAll();
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  private static String notification(String encodedKey, String eTag, long size) {
    return """
        {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
          "eventTime":"2026-11-23T10:00:00.000Z","eventName":"ObjectCreated:Put",
          "s3":{"s3SchemaVersion":"1.0","configurationId":"gen3d",
            "bucket":{"name":"gen3d","arn":"arn:aws:s3:::gen3d"},
            "object":{"key":"%s","size":%d,"eTag":"%s","sequencer":"0055AED6DCD90281E5"}}}]}"""
        .formatted(encodedKey, size, eTag);
  }

  @Test
  void notificationPostedToTheEdgeRunsTheJobAndItsEventsAreInPostgres() throws Exception {
    byte[] image = SampleImages.image(48);
    Path input = node.bucket("gen3d").resolve("users/carol/input");
    TestNode.upload(input.resolve("red ball_mask.png"), SampleImages.mask(48));
    TestNode.upload(input.resolve("red ball_image.png"), image);
    String body = notification("users/carol/input/red+ball_image.png", TestNode.md5(image), image.length);
    String jobId = JobIds.forUpload("gen3d", "users/carol/input/red ball_image.png", null, TestNode.md5(image));

    Api.Response first = node.api.post("/v1/notifications/s3", body);
    Api.Response again = node.api.post("/v1/notifications/s3", body);

    assertThat(first.status()).isEqualTo(200);
    assertThat(first.body().path("accepted").get(0).path("jobId").asText()).isEqualTo(jobId);
    assertThat(first.body().path("accepted").get(0).path("duplicate").asBoolean()).isFalse();
    assertThat(again.body().path("accepted").get(0).path("duplicate").asBoolean()).as("S3 delivers at least once")
        .isTrue();

    Await.until(TestNode.JOB_TIMEOUT, "the job to succeed", () -> "SUCCEEDED".equals(node.api.status(jobId)));
    assertThat(Files.readString(node.bucket("gen3d").resolve("users/carol/output/red ball.ply"))).startsWith("ply\n");

    List<String> types = new ArrayList<>();
    for (JsonNode e : node.api.get("/v1/jobs/" + jobId + "/events").body().path("events")) {
      types.add(e.path("type").asText());
    }
    assertThat(types).containsExactly("JobSubmitted", "JobQueued", "AttemptStarted", "JobSucceeded");
    assertThat(rowsInPostgres("Request|" + jobId)).as("the journal is PostgreSQL's").isEqualTo(4);

    // The read side follows: the index lists the job, and the audit rebuilds it from the journal to the same row.
    Await.until(TestNode.JOB_TIMEOUT, "the index to list the job as SUCCEEDED", () ->
        node.api.get("/v1/jobs?status=SUCCEEDED&owner=carol").body().path("jobs").findValuesAsText("jobId")
            .contains(jobId));
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    var env = new AuditCommand.Env(() -> node.system.settings().config(), new PrintStream(out, true,
        StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), false, Clock.systemUTC());
    int status = AuditCommand.run(env, "check", "--all");
    assertThat(status).as(out + "\n" + err).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("checked 1 job(s): 1 match job_index, 0 differ");
  }

  @Test
  void badNotificationIsRefusedAndNothingReachesTheJournal() throws Exception {
    Api.Response response = node.api.post("/v1/notifications/s3", "{\"Records\":[{\"eventSource\":\"aws:s3\"}]}");

    assertThat(response.status()).isEqualTo(400);
    assertThat(response.body().path("error").path("code").asText()).isEqualTo("invalid_notification");
    assertThat(rowsInPostgres("Request|%")).isZero();
  }

  private long rowsInPostgres(String persistenceIdPattern) throws Exception {
    try (Connection c = postgres.connect();
        PreparedStatement s = c.prepareStatement("SELECT count(*) FROM event_journal WHERE persistence_id LIKE ?")) {
      s.setString(1, persistenceIdPattern);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }
}
