package warmgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

// Config parsing only; no I/O.
class KeepWarmSettingsTest {
  private static final String ENDPOINT = """
      provider = process, max-concurrency = 2, max-queued = 10, idle-timeout = 2m, start-timeout = 15m,
      max-start-failures = 3, failed-retry-after = 30m, lease-ttl = 60s, status-poll-interval = 1s,
      reconcile-interval = 30s, invoke-timeout = 60s
      """;

  @Test
  void endpointWithoutKeepWarmBlockUsesTheFixedIdleTimeout() {
    EndpointSettings s = EndpointSettings.of("gen3d", ConfigFactory.parseString(ENDPOINT));
    assertThat(s.keepWarm().policy()).isEqualTo(KeepWarmSettings.Policy.FIXED);
    assertThat(s.idleTimeout()).isEqualTo(Duration.ofMinutes(2));
  }

  @Test
  void readsTheAdaptivePolicyAndKeepsDefaultsForKeysItLacks() {
    EndpointSettings s = EndpointSettings.of("gen3d", ConfigFactory.parseString(ENDPOINT
        + "keep-warm { policy = adaptive, break-even = 9m, delay-weight = 0.5 }"));
    assertThat(s.keepWarm()).isEqualTo(new KeepWarmSettings(KeepWarmSettings.Policy.ADAPTIVE, Duration.ofMinutes(9),
        0.5,
        KeepWarmSettings.FIXED.min(), KeepWarmSettings.FIXED.max(), KeepWarmSettings.FIXED.window()));
  }

  @Test
  void rejectsAnUnknownPolicyAndBoundsTheWrongWayRound() {
    assertThatThrownBy(() -> KeepWarmSettings.of(ConfigFactory.parseString("policy = clever")))
        .hasMessageContaining("not fixed or adaptive");
    assertThatThrownBy(() -> KeepWarmSettings.of(ConfigFactory.parseString("min = 10m, max = 5m")))
        .hasMessageContaining("max must not be below");
    assertThatThrownBy(() -> KeepWarmSettings.of(ConfigFactory.parseString("delay-weight = -1")))
        .hasMessageContaining("delay-weight");
  }
}
