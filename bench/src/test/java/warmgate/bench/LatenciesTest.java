package warmgate.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LatenciesTest {
  @Test
  void percentilesAreNearestRankOverAllSamples() {
    Latencies latencies = new Latencies();
    for (int i = 100; i >= 1; i--) {
      latencies.record(i * 1_000_000L);
    }
    assertThat(latencies.count()).isEqualTo(100);
    assertThat(latencies.percentile(0.5)).isEqualTo(50_000_000L);
    assertThat(latencies.percentile(0.99)).isEqualTo(99_000_000L);
    assertThat(latencies.max()).isEqualTo(100_000_000L);
    assertThat(latencies.millis(0.5)).isEqualTo("50.00");
  }

  @Test
  void aSingleSampleIsEveryPercentile() {
    Latencies latencies = new Latencies();
    latencies.record(7);
    assertThat(latencies.percentile(0.01)).isEqualTo(7);
    assertThat(latencies.percentile(1.0)).isEqualTo(7);
  }

  @Test
  void refusesNegativeDurationsAndEmptySummaries() {
    Latencies latencies = new Latencies();
    assertThatThrownBy(() -> latencies.percentile(0.5)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> latencies.record(-1)).isInstanceOf(IllegalArgumentException.class);
  }
}
