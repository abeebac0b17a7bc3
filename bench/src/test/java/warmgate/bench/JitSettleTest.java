package warmgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class JitSettleTest {
  private static final Duration STEP = Duration.ofMillis(20);

  @Test
  void warmsUpOnWhileTheCompilersAreBusyAndStopsAtTheFirstQuietStep() throws Exception {
    AtomicInteger reads = new AtomicInteger();
    // Busy for the first two steps (each read adds a whole step's worth of compiling), then quiet.
    JitSettle jit = new JitSettle(STEP, () -> Math.min(reads.incrementAndGet(), 4) * STEP.toMillis());

    Duration waited = jit.awaitQuiet(Duration.ofSeconds(10));

    assertThat(reads.get()).isEqualTo(6); // two reads a step: two busy steps, then the quiet one
    assertThat(waited).isGreaterThanOrEqualTo(STEP.multipliedBy(3)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void givesUpAtItsLimitWhenTheCompilersNeverGoQuiet() throws Exception {
    AtomicInteger reads = new AtomicInteger();
    JitSettle jit = new JitSettle(STEP, () -> reads.incrementAndGet() * STEP.toMillis());

    Duration waited = jit.awaitQuiet(Duration.ofMillis(200));

    assertThat(waited).isGreaterThanOrEqualTo(Duration.ofMillis(200)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void aMarksShareIsTheCompilersTimeSinceItOverTheWallClocks() throws Exception {
    AtomicLong compiled = new AtomicLong(1_000);
    JitSettle.Since since = new JitSettle(STEP, compiled::get).mark();
    Thread.sleep(100);
    compiled.addAndGet(50);

    assertThat(since.share()).isBetween(0.01, 0.5); // 50 ms of compiling over 100 ms or more (under 5 s) of wall clock
  }

  @Test
  void theRunningJvmsCompilersHaveSpentTimeAlready() {
    assertThat(new JitSettle().compiledMillis()).isPositive();
  }
}
