package warmgate.audit;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;

/**
 * A half-open range of instants, {@code [from, to)}, as audits take it from {@code ?from=&to=} or
 * {@code --from --to}. There is no longest range: every reader streams, so a long range costs time, not memory.
 */
public record TimeRange(Instant from, Instant to) {
  /** Journal timestamps are epoch milliseconds; beyond these a range could not be compared with them. */
  private static final Instant EARLIEST = Instant.EPOCH;
  private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999Z");

  public TimeRange {
    if (!to.isAfter(from)) {
      throw new IllegalArgumentException("to (" + to + ") must be later than from (" + from + ")");
    }
  }

  /**
   * Parses ISO-8601 instants with an offset ({@code 2026-03-01T10:00:00Z}, {@code 2026-03-01T11:00:00+01:00}).
   *
   * @throws IllegalArgumentException with a sentence a user can act on: a value missing or malformed, or
   *     {@code to} not after {@code from}
   */
  public static TimeRange parse(String from, String to) {
    return new TimeRange(instant("from", from), instant("to", to));
  }

  static Instant instant(String name, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(name + " is required: an ISO-8601 instant such as 2026-03-01T10:00:00Z");
    }
    Instant instant;
    try {
      instant = DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(value.strip(), OffsetDateTime::from).toInstant();
    } catch (DateTimeException e) {
      throw new IllegalArgumentException(name + " '" + value + "' is not an ISO-8601 instant with an offset, such as "
          + "2026-03-01T10:00:00Z or 2026-03-01T11:00:00+01:00");
    }
    if (instant.isBefore(EARLIEST) || instant.isAfter(LATEST)) {
      throw new IllegalArgumentException(name + " '" + value + "' is outside 1970-01-01 to 9999-12-31");
    }
    return instant;
  }

  /** The first journal timestamp (whole epoch milliseconds) in the range. */
  public long fromMillis() {
    return ceilMillis(from);
  }

  /** The first journal timestamp after the range. */
  public long toMillisExclusive() {
    return ceilMillis(to);
  }

  private static long ceilMillis(Instant instant) {
    long millis = instant.toEpochMilli();
    return instant.equals(Instant.ofEpochMilli(millis)) ? millis : millis + 1;
  }

  /** Whether a journal timestamp (epoch milliseconds) is in the range. */
  public boolean containsMillis(long timestamp) {
    return timestamp >= fromMillis() && timestamp < toMillisExclusive();
  }

  @Override
  public String toString() {
    return "[" + from + ", " + to + ")";
  }
}
