package warmgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.Endpoints;
import warmgate.endpoint.ManagedEndpoint;

// Configuration only: the start-up check for model processes that would listen where something else does.
class PortClashesTest {

  private static Config warmgate(String overrides) {
    return ConfigFactory.parseString(overrides).withFallback(ConfigFactory.load()).getConfig("warmgate");
  }

  private static Endpoints endpoints(Config warmgate) {
    return Endpoints.bind(EndpointSettings.fromConfig(warmgate), settings -> new ManagedEndpoint(settings, null, null));
  }

  private static EndpointSettings process(String name, String host, int port) {
    return endpoint(name, "process", ConfigFactory.parseString("host = \"" + host + "\"\nport = " + port));
  }

  private static EndpointSettings endpoint(String name, String provider, Config providerConfig) {
    return new EndpointSettings(name, provider, 1, 10, Duration.ofMinutes(5), Duration.ofMinutes(5), 3, Duration.ZERO,
        Duration.ofMinutes(1), Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofSeconds(30), providerConfig);
  }

  @Test
  void refusesToStartWhenTheHttpPortIsTheDemoModelsPort() {
    Config warmgate = warmgate("warmgate.http.port = 18080");

    assertThatThrownBy(() -> PortClashes.check(warmgate, endpoints(warmgate)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("endpoint gen3d runs its model process on 127.0.0.1:18080, where this node's HTTP "
            + "interface listens")
        .hasMessageContaining("WARMGATE_HTTP_PORT");
  }

  @Test
  void startsWithTheDefaultPorts() {
    Config warmgate = warmgate("");

    PortClashes.check(warmgate, endpoints(warmgate));
  }

  @Test
  void anInterfaceOnEveryAddressClashesWithALoopbackModel() {
    assertThat(PortClashes.find("0.0.0.0", 9000, List.of(process("gen3d", "127.0.0.1", 9000)))).hasSize(1);
    assertThat(PortClashes.find("127.0.0.1", 9000, List.of(process("gen3d", "0.0.0.0", 9000)))).hasSize(1);
    assertThat(PortClashes.find("localhost", 9000, List.of(process("gen3d", "127.0.0.1", 9000)))).hasSize(1);
  }

  @Test
  void refusesTwoModelProcessesOnOnePort() {
    List<String> clashes = PortClashes.find("127.0.0.1", 8080,
        List.of(process("gen3d", "127.0.0.1", 9000), process("segment", "localhost", 9001), process("depth", "0.0.0.0",
            9000)));

    assertThat(clashes).containsExactly(
        "endpoints gen3d and depth both run their model process on port 9000 (127.0.0.1, 0.0.0.0); "
            + "give each its own warmgate.endpoints.<name>.process.port");
  }

  @Test
  void distinctAddressesPortsAndRemoteEndpointsDoNotClash() {
    assertThat(PortClashes.find("127.0.0.1", 9000, List.of(
        process("gen3d", "127.0.0.2", 9000),
        process("segment", "127.0.0.1", 9001),
        endpoint("remote", "sagemaker", ConfigFactory.parseString("port = 9000"))))).isEmpty();
    assertThat(PortClashes.find("127.0.0.1", 0, List.of(process("gen3d", "127.0.0.1", 0), process("other", "127.0.0.1",
        0))))
        .as("port 0 is any free port").isEmpty();
  }
}
