package warmgate.logging;

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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import warmgate.Json;
import warmgate.testing.CapturedLogs;

// The production logback.xml loaded into a context of its own, as WARMGATE_LOG_FORMAT picks it; no actors.
class LogFormatTest {

  private final LoggerContext context = new LoggerContext();

  @AfterEach
  void stop() {
    context.stop();
  }

  /** The encoder logback.xml gives the console with {@code format} (null: the variable unset). */
  @SuppressWarnings("unchecked")
  private Encoder<ILoggingEvent> consoleEncoder(String format) throws Exception {
    if (format != null) {
      context.putProperty("WARMGATE_LOG_FORMAT", format);
    }
    var configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(LogFormatTest.class.getResource("/logback.xml"));
    var async = (AsyncAppender) context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getAppender("ASYNC");
    var console = (OutputStreamAppender<ILoggingEvent>) async.getAppender("STDOUT");
    assertThat(context.getStatusManager().getCopyOfStatusList()).noneMatch(s -> s.getEffectiveLevel() > ch.qos.logback.core.status.Status.INFO);
    return console.getEncoder();
  }

  /** A line a job logs: its id and endpoint in the MDC, as the Request entity sets them. */
  private static ILoggingEvent jobLine() {
    try (CapturedLogs logs = CapturedLogs.of("warmgate.request.Request")) {
      MDC.put("jobId", "job-42");
      MDC.put("endpoint", "gen3d");
      try {
        LoggerFactory.getLogger("warmgate.request.Request").info("Job {} runs attempt {} on endpoint {}", "job-42", 1, "gen3d");
      } finally {
        MDC.clear();
      }
      return logs.containing("Job job-42 runs attempt 1").get(0);
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
}
