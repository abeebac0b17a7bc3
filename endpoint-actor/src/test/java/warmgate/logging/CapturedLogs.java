package warmgate.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/** The log events of one logger (and those below it) while a test runs, each with the MDC it was logged with. */
public final class CapturedLogs extends AppenderBase<ILoggingEvent> implements AutoCloseable {
  private final Logger logger;
  private final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();

  private CapturedLogs(Logger logger) {
    this.logger = logger;
  }

  /** Captures from {@code loggerName} on; {@link org.slf4j.Logger#ROOT_LOGGER_NAME} for everything. */
  public static CapturedLogs of(String loggerName) {
    Logger logger = (Logger) LoggerFactory.getLogger(loggerName);
    CapturedLogs captured = new CapturedLogs(logger);
    captured.setContext(logger.getLoggerContext());
    captured.start();
    logger.addAppender(captured);
    return captured;
  }

  @Override
  protected void append(ILoggingEvent event) {
    // The MDC and the message are read now, on the logging thread; later the MDC belongs to another message.
    event.prepareForDeferredProcessing();
    events.add(event);
  }

  /** The events whose message contains {@code text}. */
  public List<ILoggingEvent> containing(String text) {
    return events.stream().filter(e -> e.getFormattedMessage().contains(text)).toList();
  }

  @Override
  public void close() {
    logger.detachAppender(this);
    stop();
  }
}
