package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import warmgate.config.QueueSettings;
import warmgate.endpoint.SlotQueue.Granted;
import warmgate.job.Priority;

// The queue alone: plain objects, no actors, time passed in. Arrival order here (fifo); FairShareTest has the rest.
class SlotQueueTest {
  private static final SlotQueue.Claim NONE = SlotQueue.Claim.NONE;
  private static final QueueSettings FIFO = new QueueSettings(QueueSettings.Policy.FIFO, Duration.ofSeconds(30),
      QueueSettings.DEFAULT.ownerDefaults(), java.util.Map.of());
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Duration TTL = Duration.ofMinutes(1);

  private final AtomicInteger leases = new AtomicInteger();

  private SlotQueue<String> queue(int maxQueued, int maxConcurrency) {
    return new SlotQueue<>(maxQueued, maxConcurrency, TTL, () -> "lease-" + leases.incrementAndGet(), FIFO);
  }

  private static List<EndpointCommand.QueuedJob> queued(String... jobIds) {
    return java.util.Arrays.stream(jobIds).map(id -> new EndpointCommand.QueuedJob(id, null, Priority.INTERACTIVE,
        T0)).toList();
  }

  private static List<String> jobs(List<Granted<String>> granted) {
    return granted.stream().map(Granted::jobId).toList();
  }

  @Test
  void grantsInArrivalOrderAndNoMoreThanMaxConcurrency() {
    SlotQueue<String> q = queue(10, 2);
    q.ask("job-1", NONE, "actor-1", T0);
    q.ask("job-2", NONE, "actor-2", T0);
    q.ask("job-3", NONE, "actor-3", T0);

    List<Granted<String>> granted = q.dispatch(T0);

    assertThat(jobs(granted)).containsExactly("job-1", "job-2");
    assertThat(granted.get(0).to()).isEqualTo("actor-1");
    assertThat(q.inFlight()).isEqualTo(2);
    assertThat(q.queued()).isEqualTo(1);
    assertThat(q.dispatch(T0)).isEmpty();
  }

  @Test
  void aReleasedLeaseGivesItsSlotToTheNextJob() {
    SlotQueue<String> q = queue(10, 1);
    q.ask("job-1", NONE, "actor-1", T0);
    q.ask("job-2", NONE, "actor-2", T0);
    String lease = q.dispatch(T0).get(0).leaseId();

    q.release("job-1", "stale-lease");
    assertThat(q.dispatch(T0)).isEmpty();
    q.release("job-1", lease);

    assertThat(jobs(q.dispatch(T0))).containsExactly("job-2");
  }

  @Test
  void aJobAskingAgainKeepsItsPlace() {
    SlotQueue<String> q = queue(10, 1);
    q.ask("job-1", NONE, "actor-1", T0);
    q.ask("job-2", NONE, "actor-2", T0);
    q.ask("job-1", NONE, "actor-1-again", T0);

    List<Granted<String>> granted = q.dispatch(T0);

    assertThat(jobs(granted)).containsExactly("job-1");
    assertThat(granted.get(0).to()).isEqualTo("actor-1-again");
  }

  @Test
  void aJobHoldingALeaseIsAnsweredWithTheSameLeaseNotASecondOne() {
    SlotQueue<String> q = queue(10, 2);
    q.ask("job-1", NONE, "actor-1", T0);
    String lease = q.dispatch(T0).get(0).leaseId();

    assertThat(q.ask("job-1", NONE, "actor-1", T0)).isEqualTo(new SlotQueue.Held(lease));
    assertThat(q.dispatch(T0)).isEmpty();
    assertThat(q.inFlight()).isEqualTo(1);
  }

  @Test
  void aFullQueueTurnsJobsAwayAsOverflowUntilTheyAreLetInOrFallSilent() {
    SlotQueue<String> q = queue(1, 1);
    q.ask("job-1", NONE, "actor-1", T0);

    assertThat(q.ask("job-2", NONE, "actor-2", T0)).isEqualTo(new SlotQueue.Full(1));
    assertThat(q.overflow()).isEqualTo(1);
    assertThat(q.isNew("job-2")).isFalse();

    q.dispatch(T0);
    assertThat(q.ask("job-2", NONE, "actor-2", T0)).isEqualTo(new SlotQueue.Queued());
    assertThat(q.overflow()).isZero();

    q.ask("job-3", NONE, "actor-3", T0);
    q.expire(T0.plus(TTL).plusSeconds(1));
    assertThat(q.overflow()).isZero();
  }

  @Test
  void aParkedJobKeepsItsPlaceWithoutAnAddressAndOnlyAQueuedJobCanPark() {
    SlotQueue<String> q = queue(10, 1);
    q.ask("job-1", NONE, "actor-1", T0);

    assertThat(q.park("job-1")).isTrue();
    assertThat(q.park("job-unknown")).isFalse();
    assertThat(q.parked()).isEqualTo(1);

    Granted<String> granted = q.dispatch(T0).get(0);
    assertThat(granted.jobId()).isEqualTo("job-1");
    assertThat(granted.to()).isNull();
  }

  @Test
  void theParkedCountFollowsEveryWayAJobLeavesMemoryOrComesBack() {
    SlotQueue<String> q = queue(10, 1);
    q.ask("job-1", NONE, "actor-1", T0);
    q.ask("job-2", NONE, "actor-2", T0);
    q.enlist(queued("job-3", "job-4")); // parked as they come
    assertThat(q.parked()).isEqualTo(2);

    q.park("job-1");
    q.park("job-1");
    assertThat(q.parked()).as("a job parked twice").isEqualTo(3);
    q.ask("job-3", NONE, "actor-3", T0, false);
    assertThat(q.parked()).as("a parked job that asks with its address").isEqualTo(2);
    q.ask("job-4", NONE, "actor-4", T0, true);
    assertThat(q.parked()).as("an ask that keeps a parked place parked").isEqualTo(2);
    q.enlist(queued("job-2"));
    assertThat(q.parked()).as("a job in memory enlisted").isEqualTo(3);

    assertThat(jobs(q.dispatch(T0))).containsExactly("job-1");
    assertThat(q.parked()).as("a parked job granted its slot").isEqualTo(2);
    q.release("job-4", null);
    assertThat(q.parked()).as("a parked job withdrawn").isEqualTo(1);
    assertThat(q.drain()).hasSize(2);
    assertThat(q.parked()).isZero();
  }

  @Test
  void enlistedJobsWaitParkedInOrderEvenBeyondAFullQueue() {
    SlotQueue<String> q = queue(1, 3);
    q.ask("job-1", NONE, "actor-1", T0);

    assertThat(q.enlist(queued("job-2", "job-3"))).isEmpty();

    assertThat(q.queued()).isEqualTo(3);
    assertThat(q.parked()).isEqualTo(2);
    assertThat(jobs(q.dispatch(T0))).containsExactly("job-1", "job-2", "job-3");
  }

  @Test
  void enlistingAJobThatNeverTookUpItsGrantSendsTheSameGrantAgainAndARunningJobIsLeftAlone() {
    SlotQueue<String> q = queue(10, 2);
    q.ask("job-1", NONE, "actor-1", T0);
    q.ask("job-2", NONE, "actor-2", T0);
    List<Granted<String>> granted = q.dispatch(T0);
    q.renew("job-2", granted.get(1).leaseId(), NONE, T0);

    List<Granted<String>> again = q.enlist(queued("job-1", "job-2"));

    assertThat(again).containsExactly(new Granted<>("job-1", null, granted.get(0).leaseId()));
    assertThat(q.queued()).isZero();
    assertThat(q.inFlight()).isEqualTo(2);
  }

  @Test
  void aRenewedLeaseThatLapsesFreesItsSlot() {
    SlotQueue<String> q = queue(10, 1);
    q.ask("job-1", NONE, "actor-1", T0);
    String lease = q.dispatch(T0).get(0).leaseId();
    q.renew("job-1", lease, NONE, T0.plusSeconds(30));

    assertThat(q.expire(T0.plus(TTL).plusSeconds(1)).freed()).isEmpty();
    SlotQueue.Expired expired = q.expire(T0.plusSeconds(30).plus(TTL).plusSeconds(1));

    assertThat(expired.freed()).containsExactly("job-1");
    assertThat(expired.requeued()).isEmpty();
    assertThat(q.idle()).isTrue();
  }

  @Test
  void aGrantNeverTakenUpPutsItsJobBackInTheQueue() {
    SlotQueue<String> q = queue(10, 1);
    q.ask("job-1", NONE, "actor-1", T0);
    q.dispatch(T0);

    SlotQueue.Expired expired = q.expire(T0.plus(TTL).plusSeconds(1));

    assertThat(expired.requeued()).containsExactly("job-1");
    assertThat(q.queued()).isEqualTo(1);
    assertThat(q.parked()).isEqualTo(1);
    assertThat(q.inFlight()).isZero();
  }

  @Test
  void aRenewalFromAJobTheQueueDoesNotKnowTakesASlotEvenBeyondMaxConcurrency() {
    SlotQueue<String> q = queue(10, 1);
    q.ask("job-1", NONE, "actor-1", T0);
    q.dispatch(T0);

    q.renew("job-2", "lease-from-before-a-restart", NONE, T0);

    assertThat(q.inFlight()).isEqualTo(2);
    assertThat(q.holdsLease("job-2")).isTrue();
  }

  @Test
  void aWithdrawnRequestLeavesTheQueueAndTheOverflow() {
    SlotQueue<String> q = queue(1, 1);
    q.ask("job-1", NONE, "actor-1", T0);
    q.ask("job-2", NONE, "actor-2", T0);

    q.release("job-1", null);
    q.release("job-2", null);

    assertThat(q.queued()).isZero();
    assertThat(q.overflow()).isZero();
    assertThat(q.isNew("job-1")).isTrue();
  }

  @Test
  void drainingEmptiesTheQueueInOrderAndLeavesTheLeases() {
    SlotQueue<String> q = queue(10, 1);
    q.ask("job-1", NONE, "actor-1", T0);
    q.ask("job-2", NONE, "actor-2", T0);
    q.ask("job-3", NONE, "actor-3", T0);
    q.park("job-3");
    q.dispatch(T0);

    assertThat(q.drain()).containsExactly(new SlotQueue.Waiter<>("job-2", "actor-2"), new SlotQueue.Waiter<>("job-3",
        null));
    assertThat(q.queued()).isZero();
    assertThat(q.inFlight()).isEqualTo(1);
  }
}
