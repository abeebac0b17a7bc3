package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.japi.function.Function2;
import org.junit.jupiter.api.Test;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.EndpointCommand.Described;
import warmgate.endpoint.EndpointCommand.ProviderCallDone;
import warmgate.endpoint.EndpointCommand.ProviderCallFailed;
import warmgate.provider.ProviderState.Status;

// No actors: the provider calls, with a pipe that keeps each call's outcome for the test to deliver.
class ProviderCallsTest {
  private final FakeProvider provider = new FakeProvider();
  private final List<Pending<?>> pending = new ArrayList<>();
  private final ProviderCalls calls = new ProviderCalls(provider, settings(Duration.ofSeconds(3)),
      Duration.ofSeconds(1), this::keep);

  /** A call whose outcome has not reached the entity yet. */
  private record Pending<T>(CompletionStage<T> call, Function2<T, Throwable, EndpointCommand> toMessage) {
    EndpointCommand outcome() throws Exception {
      T value = call.toCompletableFuture().get();
      return toMessage.apply(value, null);
    }
  }

  private <T> void keep(CompletionStage<T> call, Function2<T, Throwable, EndpointCommand> toMessage) {
    pending.add(new Pending<>(call, toMessage));
  }

  private static EndpointSettings settings(Duration statusPollInterval) {
    return new EndpointSettings("calls", "process", 1, 100, Duration.ofMinutes(5), Duration.ofMinutes(10), 3,
        Duration.ZERO, Duration.ofMinutes(1), statusPollInterval, Duration.ofSeconds(30), Duration.ofSeconds(30),
        ConfigFactory.empty());
  }

  @Test
  void describesOneAtATimeAndOnceMoreForNewsThatCameDuringOne() throws Exception {
    calls.describe();
    calls.describe();
    calls.pushed(); // the answer on its way may predate this news

    assertThat(provider.describes.get()).isEqualTo(1);
    assertThat(pending.get(0).outcome()).isInstanceOf(Described.class);

    calls.described();

    assertThat(provider.describes.get()).as("the news is checked").isEqualTo(2);
    calls.described();
    calls.pushed();
    assertThat(provider.describes.get()).as("news while idle is checked at once").isEqualTo(3);
  }

  @Test
  void aDescribeIsDueOnlyOnceItsIntervalHasPassed() {
    calls.describe();
    calls.described();

    calls.describeIfDue(Duration.ofHours(1));
    assertThat(provider.describes.get()).isEqualTo(1);

    calls.describeIfDue(Duration.ZERO);
    assertThat(provider.describes.get()).isEqualTo(2);
  }

  @Test
  void aStartOrStopIsInFlightUntilItAnswersAndItsEffectIsDescribedAtOnce() throws Exception {
    calls.start(null);
    assertThat(calls.inFlight()).isTrue();
    assertThat(provider.status()).isEqualTo(Status.CREATING);
    assertThat(pending.get(0).outcome()).isEqualTo(new ProviderCallDone("start"));

    calls.done();

    assertThat(calls.inFlight()).isFalse();
    assertThat(provider.describes.get()).isEqualTo(1);
    calls.stop();
    calls.failed(new ProviderCallFailed("stop", "throttled"));
    assertThat(calls.inFlight()).isFalse();
  }

  @Test
  void aFailedDescribeEndsTheDescribeButNotAStartInFlight() {
    calls.start(null);
    calls.describe();

    calls.failed(new ProviderCallFailed("describe", "timeout"));

    assertThat(calls.inFlight()).isTrue();
    calls.describe();
    assertThat(provider.describes.get()).isEqualTo(2);
  }

  @Test
  void startBackoffDoublesFromTheStatusPollIntervalUpToFiveMinutes() {
    assertThat(calls.startBackoff(1)).isEqualTo(Duration.ofSeconds(6));
    assertThat(calls.startBackoff(2)).isEqualTo(Duration.ofSeconds(12));
    assertThat(calls.startBackoff(30)).isEqualTo(Duration.ofMinutes(5));
    var fastPolls = new ProviderCalls(provider, settings(Duration.ofMillis(50)), Duration.ofMillis(50), this::keep);
    assertThat(fastPolls.startBackoff(1)).as("never under a second to start from").isEqualTo(Duration.ofSeconds(2));
  }
}
