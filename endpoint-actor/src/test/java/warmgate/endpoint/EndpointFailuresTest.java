package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointCommand.Grant;
import warmgate.endpoint.EndpointCommand.SlotReply;
import warmgate.endpoint.EndpointCommand.View;
import warmgate.endpoint.EndpointLifecycle.Cold;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.provider.ProviderState;
import warmgate.provider.ProviderState.Status;

// In-memory journal, a scripted provider and a manual clock; no I/O: failed starts, backoff and FAILED.
class EndpointFailuresTest extends EndpointLifecycleTestBase {

  @Test
  void failedStartIsRecordedAndRetriedAfterABackoff() {
    Fixture f = new Fixture(1);
    f.provider.failStarts("ResourceLimitExceeded: no ml.g5.xlarge capacity");

    f.acquire("job-1");

    f.awaitPhase(Phase.COLD);
    assertThat(((Cold) f.kit.getState()).startFailures()).isEqualTo(1);
    assertThat(f.view().detail()).contains("ResourceLimitExceeded");
    f.provider.failStarts(null);
    testKit.createTestProbe().expectNoMessage(Duration.ofMillis(300));
    assertThat(f.provider.starts.get()).as("waits out the backoff").isEqualTo(1);

    f.clock.advance(Duration.ofSeconds(2)); // the first backoff

    f.awaitPhase(Phase.STARTING);
    testKit.createTestProbe().awaitAssert(WAIT, () -> assertThat(f.provider.starts.get()).isEqualTo(2));
  }

  @Test
  void startThatTakesLongerThanStartTimeoutFailsAndIsCleanedUp() {
    Fixture f = new Fixture(1);
    f.acquire("job-1");
    f.awaitPhase(Phase.STARTING);

    f.clock.advance(Duration.ofMinutes(10).plusSeconds(1));

    f.awaitPhase(Phase.COLD);
    assertThat(((Cold) f.kit.getState()).lastFailure()).contains("start-timeout");
    testKit.createTestProbe().awaitAssert(WAIT, () -> assertThat(f.provider.stops.get()).isGreaterThanOrEqualTo(1));
  }

  @Test
  void repeatedStartFailuresMarkTheEndpointFailedAndWaitingJobsAreToldToRetryLater() {
    Fixture f = new Fixture(1, null, Duration.ofMillis(50), 2, Duration.ZERO);
    f.provider.failStarts("ResourceLimitExceeded: no ml.g5.xlarge capacity");
    TestProbe<SlotReply> waiting = f.acquire("job-1");
    f.awaitPhase(Phase.COLD);

    f.clock.advance(Duration.ofSeconds(2)); // the backoff; the second start fails too

    f.awaitPhase(Phase.FAILED);
    var refused = waiting.expectMessageClass(EndpointCommand.Unavailable.class, WAIT);
    assertThat(refused.jobId()).isEqualTo("job-1");
    assertThat(refused.reason()).contains("FAILED", "ResourceLimitExceeded");
    assertThat(refused.retryAfter()).isPositive();
    assertThat(f.view()).satisfies(v -> {
      assertThat(v.state()).isEqualTo(Phase.FAILED);
      assertThat(v.queued()).isZero();
      assertThat(v.detail()).contains("gave up after 2 failed starts");
    });

    // Later jobs are refused at once, and no start is tried however long they keep asking.
    TestProbe<SlotReply> later = f.acquire("job-2");
    assertThat(later.expectMessageClass(EndpointCommand.Unavailable.class, WAIT).jobId()).isEqualTo("job-2");
    f.clock.advance(Duration.ofHours(1));
    testKit.createTestProbe().expectNoMessage(Duration.ofMillis(300));
    assertThat(f.provider.starts.get()).isEqualTo(2);
  }

  @Test
  void startByHandClearsAFailedEndpoint() {
    Fixture f = new Fixture(1, null, Duration.ofMillis(50), 1, Duration.ZERO);
    f.provider.failStarts("ValidationException: EndpointConfig does not exist");
    f.acquire("job-1");
    f.awaitPhase(Phase.FAILED);
    f.provider.failStarts(null);
    testKit.createTestProbe().awaitAssert(WAIT, () -> assertThat(f.provider.stops.get()).isGreaterThanOrEqualTo(1));
    testKit.createTestProbe().expectNoMessage(Duration.ofMillis(200)); // the clean-up stop has answered

    var result = f.kit.<StatusReply<View>>runCommand(EndpointCommand.Start::new);

    assertThat(result.reply().isSuccess()).isTrue();
    assertThat(result.state().phase()).isEqualTo(Phase.STARTING);
    f.provider.set(Status.IN_SERVICE);
    assertThat(f.acquire("job-2").expectMessageClass(Grant.class, WAIT).jobId()).isEqualTo("job-2");
    assertThat(f.kit.getState()).isInstanceOf(EndpointLifecycle.Warm.class);
  }

  @Test
  void failedEndpointTriesOneStartAgainAfterFailedRetryAfterWhileJobsStillAsk() {
    Fixture f = new Fixture(1, null, Duration.ofMillis(50), 1, Duration.ofMinutes(30));
    f.provider.failStarts("ThrottlingException");
    f.acquire("job-1");
    f.awaitPhase(Phase.FAILED);
    f.provider.failStarts(null);

    f.clock.advance(Duration.ofMinutes(29));
    f.acquire("job-1").expectMessageClass(EndpointCommand.Unavailable.class, WAIT);
    testKit.createTestProbe().expectNoMessage(Duration.ofMillis(200));
    assertThat(f.kit.getState().phase()).as("not yet").isEqualTo(Phase.FAILED);

    f.clock.advance(Duration.ofMinutes(1));

    f.awaitPhase(Phase.STARTING);
    assertThat(f.provider.starts.get()).isEqualTo(2);
  }

  @Test
  void failedEndpointRecoversAsFailedAfterRestart() {
    Fixture f = new Fixture(1, null, Duration.ofMillis(50), 1, Duration.ZERO);
    f.provider.failStarts("ResourceLimitExceeded");
    f.acquire("job-1");
    f.awaitPhase(Phase.FAILED);

    var restarted = f.kit.restart();

    assertThat(restarted.state()).isInstanceOf(EndpointLifecycle.Failed.class);
    assertThat(f.acquire("job-2").expectMessageClass(EndpointCommand.Unavailable.class,
        WAIT).reason()).contains("ResourceLimitExceeded");
  }

  @Test
  void failedEndpointWhileWarmIsStoppedRatherThanBilledIdle() {
    Fixture f = new Fixture(1);
    f.warmUp();

    f.provider.set(new ProviderState(Status.FAILED, "OutOfService: instance health check failed"));

    f.awaitPhase(Phase.COLD);
    assertThat(f.provider.stops.get()).isGreaterThanOrEqualTo(1);
  }
}
