package warmgate.reliability;

import java.time.Duration;

/**
 * How long the reliability ITs run: {@code short} in the normal {@code mvn verify} (each well under two minutes),
 * {@code long} from {@code bench/run reliability long}. Read from {@code -Dwarmgate.reliability.scale}.
 */
enum ReliabilityScale {
  SHORT,
  LONG;

  static ReliabilityScale current() {
    String value = System.getProperty("warmgate.reliability.scale", "short").trim();
    return switch (value) {
      case "short", "" -> SHORT;
      case "long" -> LONG;
      default -> throw new IllegalArgumentException("warmgate.reliability.scale is short or long, not '" + value + "'");
    };
  }

  /** {@code shortRun} at the short scale, {@code longRun} at the long one. */
  Duration pick(Duration shortRun, Duration longRun) {
    return this == SHORT ? shortRun : longRun;
  }
}
