package warmgate.logformat;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.auth.Tokens;
import warmgate.ingest.sns.SnsFixture;
import warmgate.ingest.sns.SnsRoutes;
import warmgate.ingest.watcher.LocalBucketWatcher;
import warmgate.logging.CapturedLogs;
import warmgate.node.InProcessNode;

// A real node in the test's JVM (H2, real HTTP on loopback) and a real folder watcher: keys carrying control
// characters and a forged log line go in through every route; what the node logs is written with logback-text.xml's
// encoder and read back line by line. Whether a job is created or the key refused does not matter here.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OutsideValuesInLogsTest {
  private static final String FORGED = "2026-12-06 10:00:00,000 INFO  warmgate.Main - forged";
  private static final String EVENTBRIDGE_KEY = "log-test-key";

  @TempDir
  static Path dataDir;
  @TempDir
  static Path bucketRoot;

  private InProcessNode node;
  private final LoggerContext formatting = new LoggerContext();
  private Encoder<ILoggingEvent> text;
  private final HttpClient http = HttpClient.newHttpClient();
  private final Logger warmgate = (Logger) LoggerFactory.getLogger("warmgate");
  private Level levelBefore;

  @BeforeAll
  void start() throws Exception {
    text = LogFormatTest.consoleEncoder(formatting, "text");
    // Skipped keys are logged at DEBUG; those lines must be as safe as the WARNs.
    levelBefore = warmgate.getLevel();
    warmgate.setLevel(Level.DEBUG);
    var sns = new SnsRoutes(SnsFixture.verifier(SnsFixture.servingSnsCert(), Set.of(SnsFixture.TOPIC)),
        new SnsFixture.RecordingConfirmer());
    node = InProcessNode.start(dataDir, Map.of("warmgate.eventbridge.api-key-sha256",
        List.of(Tokens.sha256Hex(EVENTBRIDGE_KEY))), sns, true);
  }

  @AfterAll
  void stop() {
    if (node != null) {
      node.close();
    }
    warmgate.setLevel(levelBefore);
    formatting.stop();
  }

  /** A key under the demo route (users/, .png) carrying a line break, the forged line, CR, NUL, U+2028 and a bidi
   * override. */
  private static String hostileKey(String route) {
    return "users/" + route + "\n" + FORGED + " by " + route + "\r\u0000\u2028\u202E.png";
  }

  private HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    var request = HttpRequest.newBuilder(URI.create(node.base + path)).POST(HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json").header("Authorization", "Bearer " + TestTokens.ADMIN);
    if (headers.length > 0) {
      request.headers(headers);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** An S3 event names its key URL-encoded, as S3 sends it. */
  private static String s3Event(String key) {
    return SnsFixture.s3Event(URLEncoder.encode(key, StandardCharsets.UTF_8));
  }

  @Test
  void noRouteLetsAKeyForgeOrBreakALogLine() throws Exception {
    try (CapturedLogs logs = CapturedLogs.of(org.slf4j.Logger.ROOT_LOGGER_NAME);
        var watcher = new LocalBucketWatcher(bucketRoot, Duration.ofMillis(100), node.node.ingestion()::ingest)) {
      post("/v1/notifications/s3", s3Event(hostileKey("s3")));

      ObjectNode sns = SnsFixture.sign(SnsFixture.notification(s3Event(hostileKey("sns"))), "2");
      post("/v1/notifications/sns", Json.mapper().writeValueAsString(sns), "x-amz-sns-message-type", "Notification");

      ObjectNode upload = Json.mapper().createObjectNode().put("id", "upload\n" + FORGED + " by eventbridge-upload-id")
          .put("source", "aws.s3").put("detail-type", "Object Created");
      ObjectNode detail = upload.putObject("detail");
      detail.putObject("bucket").put("name", "gen3d");
      detail.putObject("object").put("key", hostileKey("eventbridge"));
      post("/v1/notifications/eventbridge", Json.mapper().writeValueAsString(upload), "x-warmgate-api-key",
          EVENTBRIDGE_KEY);
      ObjectNode other = Json.mapper().createObjectNode().put("id", "evt\n" + FORGED + " by eventbridge-id")
          .put("source", "aws.s3\n" + FORGED + " by eventbridge-source").put("detail-type", "Other\u2028\u202E");
      post("/v1/notifications/eventbridge", Json.mapper().writeValueAsString(other), "x-warmgate-api-key",
          EVENTBRIDGE_KEY);

      ObjectNode job = Json.mapper().createObjectNode().put("endpoint", "gen3d");
      job.putObject("inputs").put("image", "s3://gen3d/" + hostileKey("jobs"));
      job.put("output", "s3://gen3d/" + hostileKey("jobs-output"));
      post("/v1/jobs", Json.mapper().writeValueAsString(job));

      Path folder = Files.createDirectories(bucketRoot.resolve("gen3d/users"));
      // A file name cannot hold a NUL; the rest it can.
      Files.writeString(folder.resolve("watcher\n" + FORGED + " by watcher\r\u2028\u202E.png"), "png");
      watcher.start();

      // The watcher reports or refuses its file within a few scans; jobs the others started log meanwhile.
      InProcessNode.await(Duration.ofSeconds(20), () -> assertThat(logs.containing("by watcher")).isNotEmpty());
      Thread.sleep(1000);

      List<ILoggingEvent> carrying = logs.containing(FORGED);
      assertThat(carrying).as("events that quote an outside value").isNotEmpty();
      for (ILoggingEvent event : logs.containing("")) {
        String formatted = new String(text.encode(event), StandardCharsets.UTF_8);
        List<String> lines = formatted.lines().toList();
        assertThat(lines).as(formatted).noneMatch(line -> line.startsWith(FORGED));
        assertThat(formatted.chars()).as(formatted).noneMatch(c -> c == '\r' || c == 0 || c == 0x2028 || c == 0x202E);
        if (event.getThrowableProxy() == null) {
          assertThat(lines).as(formatted).hasSize(1);
        } else {
          assertThat(lines.subList(1, lines.size())).as(formatted).allMatch(l -> l.startsWith("\t")
              || l.startsWith("Caused by: ")
              || l.matches("^[\\w.$]+(: .*)?$"));
        }
        if (event.getFormattedMessage().contains(FORGED)) {
          assertThat(lines.get(0)).contains("\\n" + FORGED);
        }
      }
      System.out.println("Events quoting an outside value, as logback-text.xml writes them:");
      carrying.forEach(e -> System.out.print(new String(text.encode(e), StandardCharsets.UTF_8)));
    }
  }
}
