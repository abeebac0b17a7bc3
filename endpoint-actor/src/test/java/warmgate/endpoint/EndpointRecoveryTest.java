package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointCommand.Grant;
import warmgate.endpoint.EndpointCommand.Release;
import warmgate.endpoint.EndpointCommand.Renew;
import warmgate.endpoint.EndpointCommand.SlotReply;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.provider.ProviderState.Status;

// In-memory journal, a scripted provider and a manual clock; no I/O: restarts, and reconciling with the provider.
class EndpointRecoveryTest extends EndpointLifecycleTestBase {

  @Test
  void startingEndpointRecoversAfterRestartAndServesTheJobThatAsksAgain() {
    Fixture f = new Fixture(1);
    f.acquire("job-1");
    f.awaitPhase(Phase.STARTING);

    var restarted = f.kit.restart();

    assertThat(restarted.state().phase()).isEqualTo(Phase.STARTING);
    f.provider.set(Status.IN_SERVICE);
    f.awaitPhase(Phase.WARM);
    // The wait queue was not persisted; the job's own timer asks again.
    assertThat(f.acquire("job-1").expectMessageClass(Grant.class, WAIT).jobId()).isEqualTo("job-1");
  }

  @Test
  void startRequestLostInACrashIsMadeAgainAfterRecovery() {
    Fixture f = new Fixture(1);
    f.acquire("job-1");
    f.awaitPhase(Phase.STARTING);
    f.provider.set(Status.ABSENT); // as if the start call never reached the provider

    f.kit.restart();

    testKit.createTestProbe().awaitAssert(WAIT, () -> assertThat(f.provider.starts.get()).isGreaterThanOrEqualTo(2));
    assertThat(f.provider.status()).isEqualTo(Status.CREATING);
  }

  @Test
  void warmEndpointRecoveredAfterRestartStillStopsWhenIdle() {
    Fixture f = new Fixture(1);
    f.warmUp();

    f.kit.restart();
    f.clock.advance(IDLE);

    f.awaitPhase(Phase.COLD);
    assertThat(f.provider.status()).isEqualTo(Status.ABSENT);
  }

  @Test
  void runningJobRenewingAfterRestartKeepsItsSlot() {
    Fixture f = new Fixture(1);
    f.warmUp();
    Grant grant = f.acquire("job-1").expectMessageClass(Grant.class, WAIT);
    f.kit.restart();

    f.kit.runCommand(new Renew("job-1", grant.leaseId()));
    TestProbe<SlotReply> other = f.acquire("job-2");

    other.expectNoMessage(Duration.ofMillis(300));
    assertThat(f.view().inFlight()).isEqualTo(1);
  }

  @Test
  void adoptsAnEndpointFoundRunningWhileColdAndStopsItWhenIdle() {
    Fixture f = new Fixture(1, Status.IN_SERVICE);

    f.awaitPhase(Phase.WARM);
    f.clock.advance(IDLE);

    f.awaitPhase(Phase.COLD);
    assertThat(f.provider.status()).isEqualTo(Status.ABSENT);
    assertThat(f.view().billedSeconds()).isEqualTo(IDLE.toSeconds());
  }

  @Test
  void endpointThatVanishesWhileWarmGoesColdAndStartsAgainForWaitingJobs() {
    Fixture f = new Fixture(1);
    Grant running = f.warmWithJob1Running();
    TestProbe<SlotReply> waiting = f.acquire("job-2");

    f.provider.set(Status.ABSENT);

    testKit.createTestProbe().awaitAssert(WAIT, () -> assertThat(f.provider.starts.get()).isEqualTo(2));
    f.provider.set(Status.IN_SERVICE);
    f.kit.runCommand(new Release("job-1", running.leaseId())); // its call failed when the endpoint vanished
    assertThat(waiting.expectMessageClass(Grant.class, WAIT).jobId()).isEqualTo("job-2");
  }

  @Test
  void pushedStateChangeReconcilesAtOnceInsteadOfWaitingForThePoll() {
    Fixture f = new Fixture(1, null, Duration.ofHours(1));
    f.warmUp();
    f.provider.set(Status.ABSENT); // deleted behind our back; the hourly reconcile would see it late

    f.kit.runCommand(new EndpointCommand.ProviderReported("Deleting"));

    f.awaitPhase(Phase.COLD);
  }

  @Test
  void pushedStateChangeIsCheckedWithTheProviderNotBelieved() {
    Fixture f = new Fixture(1, null, Duration.ofHours(1));
    int describesBefore = f.provider.describes.get();

    // A late "InService" of an endpoint that is gone: acting on it would adopt and bill a deleted endpoint.
    f.kit.runCommand(new EndpointCommand.ProviderReported("InService"));

    testKit.createTestProbe().awaitAssert(WAIT,
        () -> assertThat(f.provider.describes.get()).isGreaterThan(describesBefore));
    testKit.createTestProbe().expectNoMessage(Duration.ofMillis(200));
    assertThat(f.kit.getState().phase()).isEqualTo(Phase.COLD);
    assertThat(f.provider.starts.get()).isZero();
  }

  @Test
  void grantsAsSoonAsTheProviderPushesThatItIsInServiceWithoutWaitingForTheNextPoll() {
    Fixture f = new Fixture(2, null, Duration.ofMillis(50), 10, Duration.ZERO, Duration.ofMinutes(10));
    TestProbe<SlotReply> job = f.acquire("job-1");
    f.awaitPhase(Phase.STARTING);
    // The describe that follows the start call answers CREATING; the next poll is ten minutes away.
    job.awaitAssert(WAIT, () -> assertThat(f.provider.describes.get()).isGreaterThanOrEqualTo(2));
    f.provider.set(Status.IN_SERVICE);
    job.expectNoMessage(Duration.ofMillis(500));

    f.provider.push();

    assertThat(job.expectMessageClass(Grant.class, WAIT).jobId()).isEqualTo("job-1");
    assertThat(f.kit.getState().phase()).isEqualTo(Phase.WARM);
  }

  @Test
  void aPushIsOnlyAReasonToDescribeNotTheTruth() {
    Fixture f = new Fixture(2, null, Duration.ofMillis(50), 10, Duration.ZERO, Duration.ofMinutes(10));
    TestProbe<SlotReply> job = f.acquire("job-1");
    f.awaitPhase(Phase.STARTING);
    job.awaitAssert(WAIT, () -> assertThat(f.provider.describes.get()).isGreaterThanOrEqualTo(2));
    int describes = f.provider.describes.get();

    f.provider.push(); // says CREATING still: a stale or early push

    job.awaitAssert(WAIT, () -> assertThat(f.provider.describes.get()).isEqualTo(describes + 1));
    job.expectNoMessage(Duration.ofMillis(300));
    assertThat(f.kit.getState().phase()).isEqualTo(Phase.STARTING);
  }
}
