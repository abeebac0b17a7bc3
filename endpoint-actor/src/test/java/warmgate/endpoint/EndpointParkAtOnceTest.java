package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointCommand.Acquire;
import warmgate.endpoint.EndpointCommand.Grant;
import warmgate.endpoint.EndpointCommand.Parked;
import warmgate.endpoint.EndpointCommand.Release;
import warmgate.endpoint.EndpointCommand.SlotReply;
import warmgate.job.Priority;
import warmgate.provider.ProviderState.Status;

// park-at-once: a job's ask is also a park; the endpoint keeps in memory only the jobs whose turn is near, and calls
// parked jobs back (TurnNear) one round of slots ahead of their grants.
class EndpointParkAtOnceTest extends EndpointLifecycleTestBase {

  @Test
  void aJobAskingAColdEndpointIsParkedAtOnceAndTheEndpointStarts() {
    Fixture f = new Fixture(2);

    TestProbe<SlotReply> job = acquireMayPark(f, "job-1");

    assertThat(job.expectMessageClass(Parked.class, WAIT).jobId()).isEqualTo("job-1");
    assertThat(f.view()).satisfies(v -> {
      assertThat(v.queued()).isEqualTo(1);
      assertThat(v.parked()).isEqualTo(1);
    });
    job.awaitAssert(WAIT, () -> assertThat(f.provider.starts.get()).isEqualTo(1));
  }

  @Test
  void onceInServiceTheFirstRoundIsGrantedAndTheNextRoundCalledBackThroughParkedJobs() {
    Fixture f = new Fixture(2);
    for (int i = 1; i <= 7; i++) {
      acquireMayPark(f, "job-" + i).expectMessageClass(Parked.class, WAIT);
    }

    f.provider.set(Status.IN_SERVICE);

    // Two slots: job-1 and job-2 are granted; the next two rounds, job-3 to job-6, come back into memory before their
    // turn (here every job left).
    f.awaitDelivered("Grant job-1", "Grant job-2", "TurnNear job-3", "TurnNear job-4", "TurnNear job-5",
        "TurnNear job-6");
  }

  @Test
  void aCalledBackJobStaysInMemoryAndItsGrantStillGoesAroundItsActor() {
    Fixture f = new Fixture(1);
    for (int i = 1; i <= 4; i++) {
      acquireMayPark(f, "job-" + i).expectMessageClass(Parked.class, WAIT);
    }
    f.provider.set(Status.IN_SERVICE);
    f.awaitDelivered("Grant job-1", "TurnNear job-2", "TurnNear job-3"); // two rounds of one slot
    Grant first = (Grant) f.parked.replies.get(0);

    TestProbe<SlotReply> woken = acquireMayPark(f, "job-2"); // recovered, it asks from its new actor
    woken.expectNoMessage(Duration.ofMillis(200)); // not parked again: its turn is next
    f.kit.runCommand(new Release("job-1", first.leaseId()));

    // Its place stays parked (an actor that may leave at any moment is no address), so the grant goes through
    // sharding, which reaches the job in memory or not; job-4 is called back next.
    f.awaitDelivered("Grant job-1", "TurnNear job-2", "TurnNear job-3", "Grant job-2", "TurnNear job-4");
    woken.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void aJobAskingAWarmEndpointWithAFreeSlotIsGrantedAndNeverParked() {
    Fixture f = new Fixture(1);
    f.warmUp();

    TestProbe<SlotReply> job = acquireMayPark(f, "job-1");

    assertThat(job.expectMessageClass(Grant.class, WAIT).jobId()).isEqualTo("job-1");
    job.expectNoMessage(Duration.ofMillis(100));
    assertThat(f.parked.delivered).isEmpty();
  }

  @Test
  void behindBusySlotsAShortQueueStaysInMemoryAndALongerOneParks() {
    Fixture f = new Fixture(2);
    f.warmUp();
    acquireMayPark(f, "run-1").expectMessageClass(Grant.class, WAIT);
    acquireMayPark(f, "run-2").expectMessageClass(Grant.class, WAIT);

    TestProbe<SlotReply> second = acquireMayPark(f, "wait-1");
    TestProbe<SlotReply> third = acquireMayPark(f, "wait-2");
    TestProbe<SlotReply> fourth = acquireMayPark(f, "wait-3");

    // A queue within one round of slots (2) waits in memory: its grants are a model call away.
    second.expectNoMessage(Duration.ofMillis(100));
    third.expectNoMessage(Duration.ofMillis(100));
    assertThat(fourth.expectMessageClass(Parked.class, WAIT).jobId()).isEqualTo("wait-3");
    assertThat(f.view().parked()).isEqualTo(1);
  }

  @Test
  void aParkedPlaceStaysParkedWhenTheJobAsksAgain() {
    Fixture f = new Fixture(1);
    acquireMayPark(f, "job-1").expectMessageClass(Parked.class, WAIT);
    TestProbe<SlotReply> again = acquireMayPark(f, "job-1"); // an ask sent before the answer arrived

    f.provider.set(Status.IN_SERVICE);

    f.awaitDelivered("Grant job-1");
    // Told it is parked again, never granted to the actor that may have stopped on the first answer.
    again.expectMessageClass(Parked.class, WAIT);
    again.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void jobsThatDoNotParkAtOnceAreNeitherParkedNorCalledBack() {
    Fixture f = new Fixture(1);
    TestProbe<SlotReply> one = f.acquire("job-1");
    TestProbe<SlotReply> two = f.acquire("job-2");

    f.provider.set(Status.IN_SERVICE);

    one.expectMessageClass(Grant.class, WAIT);
    two.expectNoMessage(Duration.ofMillis(200));
    assertThat(f.parked.delivered).isEmpty();
    assertThat(f.view().parked()).isZero();
  }

  private TestProbe<SlotReply> acquireMayPark(Fixture f, String jobId) {
    TestProbe<SlotReply> probe = testKit.createTestProbe();
    f.kit.runCommand(new Acquire(jobId, null, Priority.INTERACTIVE, probe.ref(), true));
    return probe;
  }
}
