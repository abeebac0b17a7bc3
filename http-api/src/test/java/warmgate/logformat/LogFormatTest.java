package warmgate.logformat;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import warmgate.Json;
import warmgate.logging.CapturedLogs;

// The production logback.xml loaded into a context of its own, as WARMGATE_LOG_FORMAT picks it; no actors.
class LogFormatTest {

  private final LoggerContext context = new LoggerContext();

  @AfterEach
  void stop() {
    context.stop();
  }

  private Encoder<ILoggingEvent> consoleEncoder(String format) throws Exception {
    return consoleEncoder(context, format);
  }

  /** The encoder logback.xml gives the console in {@code context} with {@code format} (null: the variable unset). */
  @SuppressWarnings("unchecked")
  static Encoder<ILoggingEvent> consoleEncoder(LoggerContext context, String format) throws Exception {
    if (format != null) {
      context.putProperty("WARMGATE_LOG_FORMAT", format);
    }
    var configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(LogFormatTest.class.getResource("/logback.xml"));
    var async = (AsyncAppender) context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("ASYNC");
    var console = (OutputStreamAppender<ILoggingEvent>) async.getAppender("STDOUT");
    assertThat(context.getStatusManager().getCopyOfStatusList()).noneMatch(s ->
        s.getEffectiveLevel() > ch.qos.logback.core.status.Status.INFO);
    return console.getEncoder();
  }

  /** A line a job logs: its id and endpoint in the MDC, as the Request entity sets them. */
  private static ILoggingEvent jobLine() {
    try (CapturedLogs logs = CapturedLogs.of("warmgate.request.Request")) {
      MDC.put("jobId", "job-42");
      MDC.put("endpoint", "gen3d");
      try {
        LoggerFactory.getLogger("warmgate.request.Request").info("Job {} runs attempt {} on endpoint {}", "job-42", 1,
            "gen3d");
      } finally {
        MDC.clear();
      }
      return logs.containing("Job job-42 runs attempt 1").get(0);
    }
  }

  static final String FORGED = "2026-12-06 10:00:00,000 INFO  warmgate.Main - forged";
  /** A key as an outsider would write one: a forged line after a line break, a carriage return, a NUL, U+2028, a bidi
   * override. */
  static final String HOSTILE = "users/a.png\n" + FORGED + "\r\u0000\u2028\u202Egnp.";
  static final String HOSTILE_ESCAPED = "users/a.png\\n" + FORGED + "\\r\\u0000\\u2028\\u202Egnp.";

  /** A line that quotes {@link #HOSTILE} in its message and its MDC, with an exception whose message and cause's quote
   * it too. */
  private static ILoggingEvent hostileLine() {
    try (CapturedLogs logs = CapturedLogs.of("warmgate.ingest.RouteIngestion")) {
      MDC.put("jobId", HOSTILE);
      try {
        var failure = new IllegalStateException("no route for " + HOSTILE, new IllegalArgumentException("bad key "
            + HOSTILE));
        failure.addSuppressed(new RuntimeException(FORGED + "\n" + FORGED));
        LoggerFactory.getLogger("warmgate.ingest.RouteIngestion").warn("Skipped s3://gen3d/{}: {}", HOSTILE, "marker",
            failure);
      } finally {
        MDC.clear();
      }
      return logs.containing("marker").get(0);
    }
  }

  @Test
  void textIsTheDefaultAndPrintsJobIdAndEndpoint() throws Exception {
    Encoder<ILoggingEvent> encoder = consoleEncoder(null);

    String line = new String(encoder.encode(jobLine()), StandardCharsets.UTF_8);

    assertThat(encoder).isInstanceOf(PatternLayoutEncoder.class);
    assertThat(line).contains(" job-42 gen3d - Job job-42 runs attempt 1 on endpoint gen3d").endsWith("\n");
  }

  @Test
  void jsonWritesOneObjectPerLineWithTheMdcAsFields() throws Exception {
    Encoder<ILoggingEvent> encoder = consoleEncoder("json");

    String line = new String(encoder.encode(jobLine()), StandardCharsets.UTF_8);

    assertThat(encoder).isInstanceOf(JsonEncoder.class);
    assertThat(line).endsWith("\n");
    assertThat(line.strip()).doesNotContain("\n");
    JsonNode json = Json.mapper().readTree(line);
    assertThat(json.isObject()).isTrue();
    assertThat(json.path("level").asText()).isEqualTo("INFO");
    assertThat(json.path("loggerName").asText()).isEqualTo("warmgate.request.Request");
    assertThat(json.path("formattedMessage").asText()).isEqualTo("Job job-42 runs attempt 1 on endpoint gen3d");
    assertThat(json.path("mdc").path("jobId").asText()).isEqualTo("job-42");
    assertThat(json.path("mdc").path("endpoint").asText()).isEqualTo("gen3d");
    assertThat(json.path("timestamp").isNumber()).isTrue();
  }

  @Test
  void textEscapesOutsideValuesInTheMessageAndTheMdc() throws Exception {
    String line = new String(consoleEncoder("text").encode(hostileLine()), StandardCharsets.UTF_8);
    String first = line.substring(0, line.indexOf('\n'));

    assertThat(first).contains("WARN  warmgate.ingest.RouteIngestion [] " + HOSTILE_ESCAPED + "  - Skipped s3://gen3d/"
        + HOSTILE_ESCAPED + ": marker");
    assertThat(first.chars()).noneMatch(c -> c < 0x20 || c == 0x2028 || c == 0x202E);
  }

  @Test
  void textKeepsStackFramesOnTheirLinesAndEscapesEachExceptionMessage() throws Exception {
    String text = new String(consoleEncoder("text").encode(hostileLine()), StandardCharsets.UTF_8);
    List<String> lines = text.lines().toList();

    assertThat(lines).noneMatch(l -> l.startsWith(FORGED));
    assertThat(lines.get(1)).isEqualTo("java.lang.IllegalStateException: no route for " + HOSTILE_ESCAPED);
    assertThat(lines).contains("Caused by: java.lang.IllegalArgumentException: bad key " + HOSTILE_ESCAPED);
    assertThat(lines).anyMatch(l -> l.endsWith("Suppressed: java.lang.RuntimeException: " + FORGED + "\\n" + FORGED));
    assertThat(lines).anyMatch(l -> l.startsWith("\tat warmgate.logformat.LogFormatTest.hostileLine"));
    assertThat(lines.subList(2, lines.size())).allMatch(l -> l.startsWith("\t") || l.startsWith("Caused by: "),
        "frames and causes only");
    assertThat(text.chars()).noneMatch(c -> c == '\r' || c == 0 || c == 0x2028 || c == 0x202E);
  }

  @Test
  void jsonEscapesControlCharactersAndLineSeparatorsAndStaysOneObjectOnOneLine() throws Exception {
    byte[] encoded = consoleEncoder("json").encode(hostileLine());
    String line = new String(encoded, StandardCharsets.UTF_8);

    assertThat(line).endsWith("\n");
    assertThat(line.substring(0, line.length() - 1).chars()).noneMatch(c -> c < 0x20 || c == 0x85 || (c >= 0x2028
        && c <= 0x202E));
    assertThat(line).contains("\\u2028").contains("\\u202E").contains("\\u0000").contains("\\n2026-12-06");
    JsonNode json = Json.mapper().readTree(line);
    assertThat(json.path("formattedMessage").asText()).isEqualTo("Skipped s3://gen3d/" + HOSTILE + ": marker");
    assertThat(json.path("mdc").path("jobId").asText()).isEqualTo(HOSTILE);
    assertThat(json.path("throwable").path("message").asText()).isEqualTo("no route for " + HOSTILE);
  }
}
