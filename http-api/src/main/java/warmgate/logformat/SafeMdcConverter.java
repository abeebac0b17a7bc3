package warmgate.logformat;

import ch.qos.logback.classic.pattern.MDCConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/** {@code %safeX{key}}: an MDC value as {@code %X{key}} writes it, with {@link LogText#escape} applied. */
public class SafeMdcConverter extends MDCConverter {
  @Override
  public String convert(ILoggingEvent event) {
    return LogText.escape(super.convert(event));
  }
}
