package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointCommand.Acquire;
import warmgate.endpoint.EndpointCommand.Grant;
import warmgate.endpoint.EndpointCommand.Release;
import warmgate.endpoint.EndpointCommand.Renew;
import warmgate.endpoint.EndpointCommand.ResultLanded;
import warmgate.endpoint.EndpointCommand.SlotReply;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.endpoint.EndpointLifecycle.StartRequested;
import warmgate.job.ObjectRef;
import warmgate.job.Priority;
import warmgate.provider.ProviderState.Status;

// In-memory journal, a scripted provider and a manual clock; no I/O: the wait queue, leases and parked jobs.
class EndpointQueueTest extends EndpointLifecycleTestBase {

  @Test
  void startsEndpointOnFirstAcquireAndGrantsOnceInService() {
    Fixture f = new Fixture(2);

    TestProbe<SlotReply> job = testKit.createTestProbe();
    var result = f.kit.runCommand(new Acquire("job-1", null, Priority.INTERACTIVE, job.ref()));

    assertThat(result.eventOfType(StartRequested.class).reason()).contains("job-1");
    assertThat(result.state().phase()).isEqualTo(Phase.STARTING);
    job.awaitAssert(WAIT, () -> assertThat(f.provider.starts.get()).isEqualTo(1));
    job.expectNoMessage(Duration.ofMillis(300)); // still creating: the job is held, not refused

    f.provider.set(Status.IN_SERVICE);

    Grant grant = job.expectMessageClass(Grant.class, WAIT);
    assertThat(grant.jobId()).isEqualTo("job-1");
    assertThat(grant.endpoint()).isEqualTo(f.settings.name());
    assertThat(grant.ttl()).isEqualTo(LEASE_TTL);
    assertThat(f.kit.getState().phase()).isEqualTo(Phase.WARM);
    assertThat(f.view().inFlight()).isEqualTo(1);
  }

  @Test
  void holdsJobsWhileStartingAndGrantsAtMostMaxConcurrency() {
    Fixture f = new Fixture(2);
    TestProbe<SlotReply> one = f.acquire("job-1");
    TestProbe<SlotReply> two = f.acquire("job-2");
    TestProbe<SlotReply> three = f.acquire("job-3");
    assertThat(f.view().queued()).isEqualTo(3);

    f.provider.set(Status.IN_SERVICE);

    Grant first = one.expectMessageClass(Grant.class, WAIT);
    two.expectMessageClass(Grant.class, WAIT);
    three.expectNoMessage(Duration.ofMillis(300));
    assertThat(f.view()).satisfies(v -> {
      assertThat(v.queued()).isEqualTo(1);
      assertThat(v.inFlight()).isEqualTo(2);
    });

    f.kit.runCommand(new Release("job-1", first.leaseId()));

    assertThat(three.expectMessageClass(Grant.class, WAIT).jobId()).isEqualTo("job-3");
    assertThat(f.provider.starts.get()).as("one start for all three jobs").isEqualTo(1);
  }

  @Test
  void jobsTurnedAwayByAFullQueueShowAsOverflowUntilLetInOrSilent() {
    Fixture f = new Fixture(1); // max-queued 100; the endpoint stays starting, so nothing leaves the queue
    for (int i = 0; i < 100; i++) {
      f.acquire("job-" + i);
    }
    f.acquire("late-1");
    f.acquire("late-2");
    f.acquire("late-1"); // asking again is the same job, not one more
    assertThat(f.view()).satisfies(v -> {
      assertThat(v.queued()).isEqualTo(100);
      assertThat(v.overflow()).isEqualTo(2);
    });

    f.kit.runCommand(new Release("job-0", null)); // a queued job cancelled: room for one
    f.acquire("late-1");
    assertThat(f.view()).satisfies(v -> {
      assertThat(v.queued()).isEqualTo(100);
      assertThat(v.overflow()).isEqualTo(1);
    });

    // late-2 never asks again (cancelled, or gone with its node): forgotten after a lease's time to live.
    f.clock.advance(LEASE_TTL.plusSeconds(1));
    TestProbe<Object> waiter = testKit.createTestProbe();
    waiter.awaitAssert(WAIT, () -> {
      assertThat(f.view().overflow()).isZero();
      return null;
    });
    assertThat(f.view().queued()).isEqualTo(100);
  }

  @Test
  void repeatedAcquireIsAnsweredWithTheSameLease() {
    Fixture f = new Fixture(1);
    f.warmUp();
    TestProbe<SlotReply> job = f.acquire("job-1");
    Grant first = job.expectMessageClass(Grant.class, WAIT);

    f.kit.runCommand(new Acquire("job-1", null, Priority.INTERACTIVE, job.ref()));

    assertThat(job.expectMessageClass(Grant.class, WAIT)).isEqualTo(first);
    assertThat(f.view().inFlight()).isEqualTo(1);
  }

  @Test
  void staleReleaseOfAnOldLeaseDoesNotFreeTheNewOne() {
    Fixture f = new Fixture(1);
    f.warmUp();
    TestProbe<SlotReply> job = f.acquire("job-1");
    Grant grant = job.expectMessageClass(Grant.class, WAIT);

    f.kit.runCommand(new Release("job-1", "some-older-lease"));

    assertThat(f.view().inFlight()).isEqualTo(1);
    f.kit.runCommand(new Release("job-1", grant.leaseId()));
    assertThat(f.view().inFlight()).isZero();
  }

  @Test
  void leaseThatIsNotRenewedExpiresAndItsSlotGoesToTheNextJob() {
    Fixture f = new Fixture(1);
    f.warmUp();
    f.acquire("job-1").expectMessageClass(Grant.class, WAIT);
    TestProbe<SlotReply> next = f.acquire("job-2");
    next.expectNoMessage(Duration.ofMillis(200));

    f.clock.advance(LEASE_TTL.plusSeconds(1));

    assertThat(next.expectMessageClass(Grant.class, WAIT).jobId()).isEqualTo("job-2");
    // job-1 never took its slot up: its grant may have been lost with its node, so it waits behind job-2.
    assertThat(f.view().queued()).isEqualTo(1);
    assertThat(f.view().parked()).isEqualTo(1);
  }

  @Test
  void aParkedJobKeepsItsPlaceAndItsGrantGoesThroughParkedJobs() {
    Fixture f = new Fixture(1);
    Grant running = f.warmWithJob1Running();
    TestProbe<SlotReply> second = f.park("job-2");
    TestProbe<SlotReply> third = f.acquire("job-3");
    assertThat(f.view().queued()).as("a parked job still counts as queued").isEqualTo(2);

    f.kit.runCommand(new Release("job-1", running.leaseId()));

    // Called back into memory as soon as it was parked (its turn was next), then granted around its actor.
    f.awaitDelivered("TurnNear job-2", "Grant job-2");
    second.expectNoMessage(Duration.ofMillis(200)); // its actor is gone: the grant went around it
    third.expectNoMessage(Duration.ofMillis(100)); // job-2 came first and keeps the only slot
    assertThat(f.view().inFlight()).isEqualTo(1);
  }

  @Test
  void eachOwnersJobsQueuedAndRunningShowInTheViewAndTheMetrics() {
    Fixture f = new Fixture(1);
    f.warmUp();
    TestProbe<SlotReply> first = testKit.createTestProbe();
    f.kit.runCommand(new Acquire("a-1", "alice", Priority.INTERACTIVE, first.ref()));
    first.expectMessageClass(Grant.class, WAIT);
    f.kit.runCommand(new Acquire("a-2", "alice", Priority.BATCH, testKit.<SlotReply>createTestProbe().ref()));
    f.kit.runCommand(new Acquire("b-1", "bob", Priority.INTERACTIVE, testKit.<SlotReply>createTestProbe().ref()));

    assertThat(f.view().owners()).containsExactly(new EndpointCommand.OwnerLoad("alice", 1, 1),
        new EndpointCommand.OwnerLoad("bob", 1, 0));
    assertThat(f.metrics.owners.get(f.settings.name())).isEqualTo(f.view().owners());
  }

  @Test
  void anOwnersChangedCountsReachTheMetricsAtTheNextTickAndAnOwnerWhoComesAtOnce() {
    Fixture f = new Fixture(1);
    f.warmUp();
    f.kit.runCommand(new Acquire("a-1", "alice", Priority.INTERACTIVE, testKit.<SlotReply>createTestProbe().ref()));
    f.kit.runCommand(new Acquire("a-2", "alice", Priority.BATCH, testKit.<SlotReply>createTestProbe().ref()));
    f.kit.runCommand(new Acquire("a-3", "alice", Priority.BATCH, testKit.<SlotReply>createTestProbe().ref()));

    // alice came with a-1 and was reported then; her later asks only changed her counts.
    assertThat(f.metrics.owners.get(f.settings.name())).containsExactly(new EndpointCommand.OwnerLoad("alice", 0, 1));
    f.kit.runCommand(EndpointCommand.Tick.INSTANCE);
    assertThat(f.metrics.owners.get(f.settings.name())).containsExactly(new EndpointCommand.OwnerLoad("alice", 2, 1))
        .isEqualTo(f.view().owners());

    f.kit.runCommand(new Acquire("b-1", "bob", Priority.INTERACTIVE, testKit.<SlotReply>createTestProbe().ref()));
    assertThat(f.metrics.owners.get(f.settings.name())).isEqualTo(f.view().owners()).hasSize(2);
  }

  @Test
  void wordOfAnAnswerOnTheResultPathReachesEveryJobHoldingASlotAndNoneThatWaits() {
    Fixture f = new Fixture(2);
    f.warmWithJob1Running();
    f.acquire("job-2").expectMessageClass(Grant.class, WAIT);
    f.acquire("job-3"); // both slots are taken: it waits

    f.kit.runCommand(new ResultLanded(new ObjectRef("gen3d-work", "async/out/4f1c.out")));

    // Delivered around the jobs' actors, through sharding in a node: they may have left memory since their grant.
    testKit.createTestProbe().awaitAssert(WAIT, () -> {
      assertThat(f.parked.delivered).containsExactlyInAnyOrder("ResultMayBeThere job-1", "ResultMayBeThere job-2");
      return null;
    });
  }

  @Test
  void aParkedJobThatAsksAgainIsAnsweredDirectlyAndKeepsItsPlace() {
    Fixture f = new Fixture(1);
    Grant running = f.warmWithJob1Running();
    f.park("job-2");
    f.acquire("job-3");
    TestProbe<SlotReply> woken = f.acquire("job-2"); // woken by something else, it asks from its new actor

    f.kit.runCommand(new Release("job-1", running.leaseId()));

    assertThat(woken.expectMessageClass(Grant.class, WAIT).jobId()).isEqualTo("job-2");
    assertThat(f.parked.delivered).as("called back (its turn was next), never granted around its actor")
        .containsExactly("TurnNear job-2");
  }

  @Test
  void aJobWithoutAPlaceInTheQueueIsNotAnsweredWhenItAsksToPark() {
    Fixture f = new Fixture(1);
    for (int i = 0; i < 100; i++) {
      f.acquire("job-" + i); // max-queued 100, still starting: the queue is full
    }
    TestProbe<SlotReply> late = f.acquire("late"); // overflow: waits in its own journal and keeps asking

    f.kit.runCommand(new EndpointCommand.Park("late", late.ref()));
    f.kit.runCommand(new EndpointCommand.Park("never-asked", late.ref()));

    late.expectNoMessage(Duration.ofMillis(300));
    assertThat(f.view().overflow()).isEqualTo(1);
  }

  @Test
  void aGrantAParkedJobNeverTakesReturnsItToTheQueue() {
    Fixture f = new Fixture(1);
    Grant running = f.warmWithJob1Running();
    f.park("job-2");
    f.kit.runCommand(new Release("job-1", running.leaseId()));
    f.awaitDelivered("Grant job-2"); // lost on its way, say: job-2 neither renews nor releases

    f.clock.advance(LEASE_TTL.plusSeconds(1));

    f.awaitDelivered("Grant job-2", "Grant job-2");
    Grant again = (Grant) f.parked.replies.get(1);
    assertThat(again.leaseId()).isNotEqualTo(((Grant) f.parked.replies.get(0)).leaseId());
    // Taken this time: renewed, it is an ordinary lease and does not come back when it later expires unrenewed.
    f.kit.runCommand(new Renew("job-2", again.leaseId()));
    f.clock.advance(LEASE_TTL.plusSeconds(1));
    testKit.createTestProbe().awaitAssert(WAIT, () -> {
      assertThat(f.view().inFlight()).isZero();
      return null;
    });
    assertThat(f.parked.delivered).hasSize(2);
    assertThat(f.view().queued()).isZero();
  }

  @Test
  void enlistingAJobThatHasNotTakenUpItsGrantSendsTheGrantAgainThroughParkedJobs() {
    Fixture f = new Fixture(1);
    f.warmUp();
    Grant lost = f.acquire("job-1").expectMessageClass(Grant.class, WAIT); // its node dies before the job sees it

    f.enlist("job-1"); // the waker, after the node was removed: the journal says QUEUED

    f.awaitDelivered("Grant job-1");
    assertThat(((Grant) f.parked.replies.get(0)).leaseId()).isEqualTo(lost.leaseId());
    f.kit.runCommand(new Renew("job-1", lost.leaseId())); // taken up this time
    f.enlist("job-1"); // a stale index row: the job runs, and is left alone
    assertThat(f.parked.delivered).hasSize(1);
    assertThat(f.view().queued()).isZero();
  }

  @Test
  void enlistedJobsTakePlacesInOrderStartAColdEndpointAndAreGrantedThroughParkedJobs() {
    Fixture f = new Fixture(1);

    f.enlist("job-q1", "job-q2");

    assertThat(f.kit.getState().phase()).isEqualTo(Phase.STARTING);
    assertThat(f.view().queued()).isEqualTo(2);
    f.provider.set(Status.IN_SERVICE);
    // In the order enlisted; job-q2 waits for the one slot, called back into memory as the next in line.
    f.awaitDelivered("Grant job-q1", "TurnNear job-q2");
  }

  @Test
  void enlistingAJobTheEndpointKnowsKeepsItsPlaceAndAJobRunningIsLeftAlone() {
    Fixture f = new Fixture(1);
    Grant running = f.warmWithJob1Running();
    TestProbe<SlotReply> second = f.acquire("job-2");
    f.acquire("job-3");

    f.kit.runCommand(new Renew("job-1", running.leaseId()));
    // job-1: the index lags, it already runs. job-2: its actor may be gone with its node, so it is reached through
    // parked jobs from now on.
    f.enlist("job-1", "job-2");
    assertThat(f.view().queued()).isEqualTo(2);

    f.kit.runCommand(new Release("job-1", running.leaseId()));
    f.awaitDelivered("TurnNear job-2", "Grant job-2");
    second.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void aFailedEndpointRefusesAnEnlistedJobThroughParkedJobs() {
    Fixture f = new Fixture(1, null, Duration.ofMillis(50), 2, Duration.ZERO);
    f.provider.failStarts("no capacity");
    f.park("job-1");
    f.awaitPhase(Phase.COLD);
    f.clock.advance(Duration.ofSeconds(2)); // the backoff; the second start fails too
    f.awaitPhase(Phase.FAILED);
    f.awaitDelivered("Unavailable job-1"); // the parked job is told, as a waiting one would be

    f.enlist("job-2");

    f.awaitDelivered("Unavailable job-1", "Unavailable job-2");
    assertThat(f.view().queued()).isZero();
  }

  @Test
  void recallsItsParkedJobsWheneverItStartsWithAnEmptyQueue() {
    Fixture f = new Fixture(1);
    f.kit.runCommand(EndpointCommand.Get::new);
    assertThat(f.parked.recalled).containsExactly(f.settings.name());

    f.kit.restart();

    assertThat(f.parked.recalled).containsExactly(f.settings.name(), f.settings.name());
  }
}
