package warmgate.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

// Configuration only: no actor system.
class ClusterFormationTest {

  private static Config config(Map<String, Object> settings) {
    return ConfigFactory.load(ConfigFactory.parseMap(settings)
        .withFallback(ConfigFactory.parseResourcesAnySyntax("application")));
  }

  @Test
  void embeddedDefaultJoinsItselfWithoutManagement() {
    var settings = ClusterFormation.Settings.fromConfig(config(Map.of()));

    assertThat(settings.discovery()).isEqualTo("none");
    assertThat(settings.bootstrap()).isFalse();
    assertThat(settings.management()).isFalse();
    assertThat(settings.joinSelf()).isTrue();
  }

  @Test
  void contactPointsFromOneCommaSeparatedValueBecomeConfigDiscoveryEndpoints() {
    Config applied = ClusterFormation.applyTo(config(Map.of(
        "warmgate.cluster.discovery", "config", "warmgate.cluster.contact-points", "node-a:8558, node-b:8559")));

    var settings = ClusterFormation.Settings.fromConfig(applied);
    assertThat(settings.management()).as("bootstrap is served by management").isTrue();
    assertThat(applied.getConfigList("pekko.discovery.config.services.warmgate.endpoints"))
        .extracting(c -> c.getString("host") + ":" + c.getInt("port"))
        .containsExactly("node-a:8558", "node-b:8559");
    assertThat(applied.getString("pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method"))
        .isEqualTo("config");
  }

  @Test
  void contactPointsAsAListUseTheConfiguredServiceName() {
    Config applied = ClusterFormation.applyTo(config(Map.of("warmgate.cluster.discovery", "config",
        "warmgate.cluster.contact-points", List.of("127.0.0.1:9001"),
        "pekko.management.cluster.bootstrap.contact-point-discovery.service-name", "gateway")));

    assertThat(applied.getConfigList("pekko.discovery.config.services.gateway.endpoints")).hasSize(1);
  }

  @Test
  void contactPointWithoutPortIsRefused() {
    assertThatThrownBy(() -> ClusterFormation.applyTo(config(Map.of(
        "warmgate.cluster.discovery", "config", "warmgate.cluster.contact-points", "node-a"))))
        .hasMessageContaining("'node-a' is not host:port");
  }

  @Test
  void unknownDiscoveryMethodIsRefused() {
    assertThatThrownBy(() -> ClusterFormation.Settings.fromConfig(config(Map.of("warmgate.cluster.discovery",
        "kubernetes"))))
        .hasMessageContaining("warmgate.cluster.discovery (WARMGATE_DISCOVERY) is 'kubernetes'");
  }

  @Test
  void kubernetesApiDiscoveryLooksUpPodsLabelledWithTheServiceName() {
    Config config = config(Map.of("warmgate.cluster.discovery", "kubernetes-api"));

    assertThat(ClusterFormation.Settings.fromConfig(config).bootstrap()).isTrue();
    assertThat(String.format(config.getString("pekko.discovery.kubernetes-api.pod-label-selector"),
        config.getString("pekko.management.cluster.bootstrap.contact-point-discovery.service-name")))
            .isEqualTo("app=warmgate");
  }
}
