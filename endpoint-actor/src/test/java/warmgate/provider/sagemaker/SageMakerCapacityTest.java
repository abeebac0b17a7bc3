// Real HTTP on loopback: starting SageMaker endpoints from a list of EndpointConfigs when capacity runs out.
package warmgate.provider.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static warmgate.provider.sagemaker.SageMakerTesting.await;
import static warmgate.provider.sagemaker.SageMakerTesting.eventually;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.provider.ProviderState;
import warmgate.provider.ProviderState.Status;

class SageMakerCapacityTest {
  private static final String SCARCE = "gen3d-p4d";
  private static final String PLENTIFUL = "gen3d-g5";

  private static SageMakerStandIn standIn;
  private static SageMakerClients clients;
  private static int counter;

  private String name;

  @BeforeAll
  static void startStandIn() {
    standIn = SageMakerStandIn.start(PLENTIFUL).capacityShortage(SCARCE).creationDelay(Duration.ofMillis(50))
        .deletionDelay(Duration.ofMillis(50));
    clients = new SageMakerClients();
  }

  @AfterAll
  static void stopStandIn() {
    clients.close();
    standIn.close();
  }

  @BeforeEach
  void freshEndpoint() {
    name = "gen3d-capacity-" + (++counter);
    standIn.resetCalls();
  }

  @Test
  void listsTheConfigurationsToTryInOrder() {
    assertThat(bind(twoConfigs()).provider().configurations()).containsExactly(SCARCE, PLENTIFUL);
    assertThat(bind(standIn.providerConfig(PLENTIFUL)).provider().configurations()).isEmpty();
  }

  @Test
  void anEndpointThatFindsNoCapacityIsAShortageAndTheNextConfigurationServes() {
    var provider = bind(twoConfigs()).provider();

    await(provider.start(SCARCE));
    ProviderState failed = eventually(() -> await(provider.describe()), s -> s.status() == Status.FAILED);

    assertThat(failed.capacityShortage()).isTrue();
    assertThat(failed.detail()).contains("Unable to provision requested ML compute capacity");
    await(provider.stop());
    eventually(() -> await(provider.describe()), s -> s.status() == Status.ABSENT);
    await(provider.start(PLENTIFUL));
    ProviderState serving = eventually(() -> await(provider.describe()), s -> s.status() == Status.IN_SERVICE);
    assertThat(serving.capacityShortage()).isFalse();
    assertThat(standIn.calls("CreateEndpoint")).isEqualTo(2);
  }

  @Test
  void startWithoutAConfigurationUsesTheFirst() {
    var provider = bind(twoConfigs()).provider();

    await(provider.start());

    assertThat(eventually(() -> await(provider.describe()), s -> s.status() == Status.FAILED).capacityShortage())
        .isTrue();
  }

  @Test
  void otherFailuresAreNoShortage() {
    var provider = bind(twoConfigs()).provider();
    standIn.pauseTransitions();
    standIn.forceStatus(name, "Failed", "The primary container for production variant AllTraffic did not pass the "
        + "ping health check.");

    assertThat(await(provider.describe()).capacityShortage()).isFalse();
    standIn.resumeTransitions();
  }

  @Test
  void pushedCapacityFailuresAreShortagesToo() {
    assertThat(SageMakerEndpoint.stateOf(name, "FAILED", SageMakerStandIn.CAPACITY_REASON).capacityShortage())
        .isTrue();
    assertThat(SageMakerEndpoint.stateOf(name, "Failed", "CapacityError: Unable to provision requested ML compute "
        + "capacity. Please retry using a different ML instance type.").capacityShortage()).isTrue();
    assertThat(SageMakerEndpoint.stateOf(name, "InService", null).capacityShortage()).isFalse();
  }

  @Test
  void refusesAConfigurationItWasNotGiven() {
    assertThatThrownBy(() -> await(bind(twoConfigs()).provider().start("someone-elses")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("someone-elses");
    assertThat(standIn.calls("CreateEndpoint")).isZero();
  }

  @Test
  void takesEitherOneConfigurationOrAList() {
    Config both = twoConfigs().withValue("endpoint-config-name", ConfigValueFactory.fromAnyRef(PLENTIFUL));
    Config neither = twoConfigs().withoutPath("endpoint-config-names");
    Config twice = twoConfigs().withValue("endpoint-config-names", ConfigValueFactory.fromIterable(List.of(SCARCE,
        SCARCE)));

    assertThatThrownBy(() -> bind(both)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("endpoint " + name + ": sagemaker.endpoint-config-name and")
        .hasMessageContaining("both set");
    assertThatThrownBy(() -> bind(neither)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sagemaker.endpoint-config-name is required");
    assertThatThrownBy(() -> bind(twice)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sagemaker.endpoint-config-names names an EndpointConfig twice");
  }

  private Config twoConfigs() {
    return standIn.providerConfig(SCARCE).withoutPath("endpoint-config-name")
        .withValue("endpoint-config-names", ConfigValueFactory.fromIterable(List.of(SCARCE, PLENTIFUL)));
  }

  private ManagedEndpoint bind(Config block) {
    return SageMakerEndpoint.bind(SageMakerTesting.settings(name, "sagemaker", block, Duration.ofSeconds(5)), clients);
  }
}
