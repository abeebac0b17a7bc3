package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import warmgate.config.QueueSettings;
import warmgate.config.QueueSettings.OwnerShare;
import warmgate.endpoint.SlotQueue.Claim;
import warmgate.endpoint.SlotQueue.Granted;
import warmgate.job.Priority;

// The slot queue's sharing among owners, alone: plain objects, no actors, time passed in.
class FairShareTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Duration TTL = Duration.ofMinutes(1);
  private static final OwnerShare ONE = new OwnerShare(1, 10_000, 0);

  private final AtomicInteger leases = new AtomicInteger();

  private SlotQueue<String> queue(int slots, QueueSettings sharing) {
    return new SlotQueue<>(100_000, slots, TTL, () -> "lease-" + leases.incrementAndGet(), sharing);
  }

  private static QueueSettings fair(Map<String, OwnerShare> owners) {
    return new QueueSettings(QueueSettings.Policy.FAIR, Duration.ofSeconds(30), ONE, owners);
  }

  private static Claim of(String owner) {
    return new Claim(owner, Priority.INTERACTIVE);
  }

  /** Grants one slot at a time, giving each back at once: the order in which a busy endpoint serves the queue. */
  private static List<String> serveOneByOne(SlotQueue<String> q, int n) {
    List<String> order = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<Granted<String>> granted = q.dispatch(T0);
      if (granted.isEmpty()) {
        break;
      }
      Granted<String> g = granted.get(0);
      order.add(g.jobId());
      q.release(g.jobId(), g.leaseId());
    }
    return order;
  }

  private static String owners(List<String> jobIds) {
    StringBuilder s = new StringBuilder();
    jobIds.forEach(id -> s.append(id.charAt(0)));
    return s.toString();
  }

  @Test
  void theJobsAheadAreTheOnesTheNextSlotsGoToAndSkipWhatIsNotWanted() {
    SlotQueue<String> q = queue(1, fair(Map.of()));
    for (int i = 0; i < 6; i++) {
      q.ask("a" + i, of("alice"), "actor", T0);
    }
    for (int i = 0; i < 3; i++) {
      q.ask("b" + i, of("bob"), "actor", T0.plusSeconds(1));
    }

    List<String> ahead = q.ahead(6, id -> !id.equals("a1"), 100);

    assertThat(ahead).containsExactly("a0", "b0", "b1", "a2", "b2", "a3");
    assertThat(q.ahead(8, id -> true, 100)).as("the order the slots will take")
        .containsExactlyElementsOf(serveOneByOne(q, 8));
    assertThat(q.queued()).as("looking ahead takes nobody out").isEqualTo(1);
  }

  @Test
  void lookingAheadStopsAfterItsScanAndCountsInteractiveWorkAsEarlier() {
    SlotQueue<String> q = queue(1, fair(Map.of()));
    q.ask("batch-early", new Claim("alice", Priority.BATCH), "actor", T0);
    q.ask("interactive-later", of("alice"), "actor", T0.plusSeconds(10)); // within priority-ageing (30 s)

    assertThat(q.ahead(2, id -> true, 100)).containsExactly("interactive-later", "batch-early");
    assertThat(q.ahead(2, id -> true, 1)).containsExactly("interactive-later");
  }

  @Test
  void anOwnerWhoQueuedFirstAndMostGetsNoMoreThanItsTurnWhileOthersWait() {
    SlotQueue<String> q = queue(1, fair(Map.of()));
    for (int i = 0; i < 100; i++) {
      q.ask("a" + i, of("alice"), "actor", T0);
    }
    for (int i = 0; i < 3; i++) {
      q.ask("b" + i, of("bob"), "actor", T0.plusSeconds(1));
    }

    assertThat(owners(serveOneByOne(q, 10))).isEqualTo("abababaaaa");
  }

  @Test
  void weightsSetHowManySlotsEachOwnerGetsPerRound() {
    SlotQueue<String> q = queue(1, fair(Map.of("alice", new OwnerShare(2, 10_000, 0))));
    for (int i = 0; i < 10; i++) {
      q.ask("a" + i, of("alice"), "actor", T0);
      q.ask("b" + i, of("bob"), "actor", T0);
    }

    assertThat(owners(serveOneByOne(q, 9))).isEqualTo("aabaabaab");
  }

  @Test
  void aWeightBelowOneSavesUpOverSeveralTurns() {
    SlotQueue<String> q = queue(1, fair(Map.of("alice", new OwnerShare(0.5, 10_000, 0))));
    for (int i = 0; i < 10; i++) {
      q.ask("a" + i, of("alice"), "actor", T0);
      q.ask("b" + i, of("bob"), "actor", T0);
    }

    String served = owners(serveOneByOne(q, 12));
    assertThat(served.chars().filter(c -> c == 'a').count()).isEqualTo(4);
    assertThat(served.chars().filter(c -> c == 'b').count()).isEqualTo(8);
  }

  @Test
  void anOwnerAtItsMaxInFlightIsPassedOverAndTheSlotsGoToOthers() {
    SlotQueue<String> q = queue(4, fair(Map.of("alice", new OwnerShare(1, 10_000, 1))));
    for (int i = 0; i < 5; i++) {
      q.ask("a" + i, of("alice"), "actor", T0);
    }
    q.ask("b0", of("bob"), "actor", T0);

    List<Granted<String>> granted = q.dispatch(T0);

    assertThat(owners(granted.stream().map(Granted::jobId).toList())).isEqualTo("ab");
    assertThat(q.inFlight()).as("two slots stay free: only alice waits, and she holds her one").isEqualTo(2);
    assertThat(q.dispatch(T0)).isEmpty();
    q.release(granted.get(0).jobId(), granted.get(0).leaseId());
    assertThat(q.dispatch(T0)).extracting(Granted::jobId).containsExactly("a1");
  }

  @Test
  void interactiveWorkGoesBeforeBatchWorkOfTheSameOwner() {
    SlotQueue<String> q = queue(1, fair(Map.of()));
    q.ask("batch-1", new Claim("alice", Priority.BATCH), "actor", T0);
    q.ask("batch-2", new Claim("alice", Priority.BATCH), "actor", T0);
    q.ask("now-1", of("alice"), "actor", T0.plusSeconds(5));

    assertThat(serveOneByOne(q, 3)).containsExactly("now-1", "batch-1", "batch-2");
  }

  @Test
  void aBatchJobThatWaitedLongerThanTheAgeingGoesBeforeNewerInteractiveWork() {
    SlotQueue<String> q = queue(1, fair(Map.of()));
    q.ask("batch-old", new Claim("alice", Priority.BATCH), "actor", T0);
    q.ask("now-soon", of("alice"), "actor", T0.plusSeconds(29));
    q.ask("now-late", of("alice"), "actor", T0.plusSeconds(31)); // ageing 30 s: the batch job is due first

    assertThat(serveOneByOne(q, 3)).containsExactly("now-soon", "batch-old", "now-late");
  }

  @Test
  void fifoServesInArrivalOrderWhoeverTheJobsBelongTo() {
    QueueSettings fifo = new QueueSettings(QueueSettings.Policy.FIFO, Duration.ofSeconds(30), ONE, Map.of());
    SlotQueue<String> q = queue(1, fifo);
    for (int i = 0; i < 4; i++) {
      q.ask("a" + i, of("alice"), "actor", T0);
    }
    q.ask("b0", of("bob"), "actor", T0);

    assertThat(owners(serveOneByOne(q, 5))).isEqualTo("aaaab");
  }

  @Test
  void fifoStillHoldsEachOwnerToItsMaxInFlight() {
    QueueSettings fifo = new QueueSettings(QueueSettings.Policy.FIFO, Duration.ofSeconds(30), ONE,
        Map.of("alice", new OwnerShare(1, 10_000, 1)));
    SlotQueue<String> q = queue(2, fifo);
    q.ask("a0", of("alice"), "actor", T0);
    q.ask("a1", of("alice"), "actor", T0);
    q.ask("b0", of("bob"), "actor", T0);

    assertThat(q.dispatch(T0)).extracting(Granted::jobId).containsExactly("a0", "b0");
  }

  @Test
  void theQueueCountsEachOwnersJobsWaitingAndRunning() {
    SlotQueue<String> q = queue(1, fair(Map.of()));
    q.ask("a0", of("alice"), "actor", T0);
    q.ask("a1", of("alice"), "actor", T0);
    q.ask("n0", Claim.NONE, "actor", T0);
    q.dispatch(T0);

    assertThat(q.owners()).containsExactly(new EndpointCommand.OwnerLoad("", 1, 0),
        new EndpointCommand.OwnerLoad("alice", 1, 1));
    assertThat(q.queuedBy("alice")).isEqualTo(1);
    assertThat(q.queuedBy(null)).isEqualTo(1);
    q.release("n0", null);
    assertThat(q.owners()).containsExactly(new EndpointCommand.OwnerLoad("alice", 1, 1));
  }

  @Test
  void aGrantNeverTakenUpPutsItsJobBackAtTheEndOfItsOwnersLine() {
    SlotQueue<String> q = queue(1, fair(Map.of()));
    q.ask("a0", of("alice"), "actor", T0);
    q.ask("a1", of("alice"), "actor", T0);
    q.ask("b0", of("bob"), "actor", T0);
    q.dispatch(T0); // a0, whose grant is lost

    q.expire(T0.plus(TTL).plusSeconds(1));

    assertThat(q.queuedBy("alice")).isEqualTo(2);
    assertThat(serveOneByOne(q, 3)).containsExactly("b0", "a1", "a0");
  }

  @Test
  void aLeaseRebuiltFromARenewalAfterARestartCountsForItsOwner() {
    SlotQueue<String> q = queue(3, fair(Map.of("alice", new OwnerShare(1, 10_000, 1))));
    q.renew("a0", "lease-from-before-the-restart", of("alice"), T0); // still running, on another node
    q.ask("a1", of("alice"), "actor", T0);
    q.ask("b0", of("bob"), "actor", T0);

    assertThat(q.dispatch(T0)).extracting(Granted::jobId).containsExactly("b0");
    assertThat(q.owners()).containsExactly(new EndpointCommand.OwnerLoad("alice", 1, 1),
        new EndpointCommand.OwnerLoad("bob", 0, 1));
  }

  @Test
  void enlistedJobsKeepTheirOwnersAndTurns() {
    SlotQueue<String> q = queue(1, fair(Map.of()));
    List<EndpointCommand.QueuedJob> queued = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      queued.add(new EndpointCommand.QueuedJob("a" + i, "alice", Priority.INTERACTIVE, T0));
    }
    queued.add(new EndpointCommand.QueuedJob("b0", "bob", Priority.INTERACTIVE, T0.plusSeconds(1)));

    q.enlist(queued);

    assertThat(owners(serveOneByOne(q, 4))).isEqualTo("abaa");
  }

  /**
   * Random traffic from owners of random weights and limits, against what fair sharing promises: no more slots than
   * there are, no owner above its limit, the counts always agree, every job is served in the end, and while two
   * owners both wait, neither gets more than its weight's share plus one round ahead of the other.
   */
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 42, 2026})
  void randomTrafficKeepsEveryPromise(long seed) {
    Random random = new Random(seed);
    Map<String, OwnerShare> shares = new HashMap<>();
    String[] owners = {"alice", "bob", "carol", "dave"};
    for (String owner : owners) {
      shares.put(owner, new OwnerShare(1 + random.nextInt(3), 10_000, random.nextInt(3)));
    }
    int slots = 1 + random.nextInt(4);
    SlotQueue<String> q = queue(slots, fair(shares));
    List<Granted<String>> running = new ArrayList<>();
    Map<String, String> ownerOf = new HashMap<>();
    int asked = 0;
    int served = 0;
    for (int step = 0; step < 5_000; step++) {
      int action = random.nextInt(10);
      if (action < 5) {
        String owner = owners[random.nextInt(owners.length)];
        String jobId = owner + "-" + asked++;
        ownerOf.put(jobId, owner);
        Priority priority = random.nextBoolean() ? Priority.BATCH : Priority.INTERACTIVE;
        q.ask(jobId, new Claim(owner, priority), "actor", T0.plusMillis(step));
      } else if (action < 8 && !running.isEmpty()) {
        Granted<String> done = running.remove(random.nextInt(running.size()));
        q.release(done.jobId(), done.leaseId());
      }
      for (Granted<String> g : q.dispatch(T0.plusMillis(step))) {
        running.add(g);
        served++;
      }
      assertThat(q.inFlight()).isEqualTo(running.size()).isLessThanOrEqualTo(slots);
      Map<String, Integer> inFlight = new HashMap<>();
      running.forEach(g -> inFlight.merge(ownerOf.get(g.jobId()), 1, Integer::sum));
      inFlight.forEach((owner, n) -> {
        int limit = shares.get(owner).maxInFlight();
        assertThat(limit == 0 || n <= limit).as("%s runs %d, limit %d", owner, n, limit).isTrue();
      });
      assertThat(q.owners().stream().mapToInt(EndpointCommand.OwnerLoad::queued).sum()).isEqualTo(q.queued());
      assertThat(q.owners().stream().mapToInt(EndpointCommand.OwnerLoad::inFlight).sum()).isEqualTo(q.inFlight());
    }
    while (!running.isEmpty() || q.queued() > 0) {
      Granted<String> done = running.remove(0);
      q.release(done.jobId(), done.leaseId());
      for (Granted<String> g : q.dispatch(T0)) {
        running.add(g);
        served++;
      }
      if (running.isEmpty() && q.queued() > 0) {
        running.addAll(q.dispatch(T0));
        served += running.size();
        assertThat(running).as("jobs wait but nobody is served").isNotEmpty();
      }
    }
    assertThat(served).isEqualTo(asked);
  }

  @ParameterizedTest
  @ValueSource(longs = {7, 8, 9})
  void twoBackloggedOwnersShareInProportionToTheirWeights(long seed) {
    Random random = new Random(seed);
    int weightA = 1 + random.nextInt(4);
    int weightB = 1 + random.nextInt(4);
    SlotQueue<String> q = queue(1, fair(Map.of("alice", new OwnerShare(weightA, 10_000, 0), "bob",
        new OwnerShare(weightB, 10_000, 0))));
    for (int i = 0; i < 2_000; i++) {
      q.ask("a" + i, of("alice"), "actor", T0);
      q.ask("b" + i, of("bob"), "actor", T0);
    }

    String served = owners(serveOneByOne(q, 1_000));

    for (int end = 1; end <= served.length(); end++) {
      String prefix = served.substring(0, end);
      double a = prefix.chars().filter(c -> c == 'a').count() / (double) weightA;
      double b = prefix.chars().filter(c -> c == 'b').count() / (double) weightB;
      assertThat(Math.abs(a - b)).as("after %d grants (weights %d:%d): %s", end, weightA, weightB, prefix)
          .isLessThanOrEqualTo(1.0);
    }
  }
}
