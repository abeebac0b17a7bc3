package warmgate.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;

// Parsing of ?from=&to= and --from --to, and how a range meets millisecond journal timestamps; no I/O.
class TimeRangeTest {

  @Test
  void instantsWithAnyOffsetAreTheSameInstants() {
    TimeRange range = TimeRange.parse("2026-03-01T11:00:00+01:00", "2026-03-01T10:30:00.5Z");

    assertThat(range.from()).isEqualTo(Instant.parse("2026-03-01T10:00:00Z"));
    assertThat(range.to()).isEqualTo(Instant.parse("2026-03-01T10:30:00.500Z"));
  }

  @Test
  void missingMalformedOrInvertedBoundsAreRefusedWithAReason() {
    assertThatThrownBy(() -> TimeRange.parse(null, "2026-03-01T10:00:00Z")).hasMessageStartingWith("from is required");
    assertThatThrownBy(() -> TimeRange.parse("2026-03-01T10:00:00Z", " ")).hasMessageStartingWith("to is required");
    assertThatThrownBy(() -> TimeRange.parse("2026-03-01",
        "2026-03-02T00:00:00Z")).hasMessageContaining("from '2026-03-01' is not");
    assertThatThrownBy(() -> TimeRange.parse("2026-03-01T10:00:00Z",
        "2026-03-01T10:00:00Z")).hasMessageContaining("must be later than from");
    assertThatThrownBy(() -> TimeRange.parse("1969-12-31T23:59:59Z",
        "2026-03-01T10:00:00Z")).hasMessageContaining("outside");
    assertThatThrownBy(() -> TimeRange.parse("2026-03-01T10:00:00Z",
        "+12026-03-01T10:00:00Z")).hasMessageContaining("to '");
  }

  @Test
  void boundsInsideAMillisecondKeepTheRangeHalfOpenForMillisecondTimestamps() {
    TimeRange range = TimeRange.parse("2026-03-01T10:00:00.0005Z", "2026-03-01T10:00:00.0025Z");
    long ms = Instant.parse("2026-03-01T10:00:00Z").toEpochMilli();

    assertThat(range.containsMillis(ms)).as(".000 is before .0005").isFalse();
    assertThat(range.containsMillis(ms + 1)).isTrue();
    assertThat(range.containsMillis(ms + 2)).as(".002 is before .0025").isTrue();
    assertThat(range.containsMillis(ms + 3)).isFalse();
  }
}
