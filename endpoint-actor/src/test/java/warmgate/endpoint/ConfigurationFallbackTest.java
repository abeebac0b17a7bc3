package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import warmgate.provider.ProviderState;
import warmgate.provider.ProviderState.Status;

// No actors, no I/O: which configuration a start uses and which comes next on a capacity shortage.
class ConfigurationFallbackTest {
  private static final ProviderState NO_CAPACITY = ProviderState.capacityShortage("InsufficientInstanceCapacity");
  private static final ProviderState BROKEN = new ProviderState(Status.FAILED, "Failed: model image not found");

  @Test
  void startsWithTheFirstConfigurationAndFallsBackInOrder() {
    var fallback = new ConfigurationFallback(new FakeProvider().configurations("g5", "g6", "p4"));

    assertThat(fallback.first()).isEqualTo("g5");
    assertThat(fallback.nextAfter("g5", NO_CAPACITY)).isEqualTo("g6");
    assertThat(fallback.nextAfter("g6", NO_CAPACITY)).isEqualTo("p4");
    assertThat(fallback.nextAfter("p4", NO_CAPACITY)).as("exhausted").isNull();
  }

  @Test
  void failureOtherThanCapacityHasNoNextConfiguration() {
    var fallback = new ConfigurationFallback(new FakeProvider().configurations("g5", "g6"));

    assertThat(fallback.nextAfter("g5", BROKEN)).isNull();
    assertThat(fallback.exhausted("the provider reports it", BROKEN)).isEqualTo("the provider reports it");
  }

  @Test
  void unknownConfigurationIsTheFirstAndOneNoLongerListedHasNoNext() {
    var fallback = new ConfigurationFallback(new FakeProvider().configurations("g5", "g6"));

    assertThat(fallback.nextAfter(null, NO_CAPACITY)).as("adopted, or journaled before the list").isEqualTo("g6");
    assertThat(fallback.nextAfter("removed-since", NO_CAPACITY)).isNull();
  }

  @Test
  void providerWithOneConfigurationNeverFallsBack() {
    var fallback = new ConfigurationFallback(new FakeProvider());

    assertThat(fallback.first()).isNull();
    assertThat(fallback.nextAfter(null, NO_CAPACITY)).isNull();
    assertThat(fallback.exhausted("no capacity", NO_CAPACITY)).isEqualTo("no capacity");
  }

  @Test
  void exhaustedListSaysNoConfigurationHadCapacity() {
    var fallback = new ConfigurationFallback(new FakeProvider().configurations("g5", "g6"));

    assertThat(fallback.exhausted("the provider reports InsufficientInstanceCapacity", NO_CAPACITY))
        .isEqualTo("no capacity for any of the configurations [g5, g6]; last: the provider reports "
            + "InsufficientInstanceCapacity");
  }
}
