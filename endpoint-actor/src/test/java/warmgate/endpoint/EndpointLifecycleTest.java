package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import warmgate.config.EndpointSettings;
import warmgate.config.KeepWarmSettings;
import warmgate.endpoint.EndpointCommand.Acquire;
import warmgate.endpoint.EndpointLifecycle.Cold;
import warmgate.endpoint.EndpointCommand.Grant;
import warmgate.endpoint.EndpointCommand.SlotReply;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.endpoint.EndpointCommand.Release;
import warmgate.endpoint.EndpointCommand.Renew;
import warmgate.endpoint.EndpointLifecycle.StartRequested;
import warmgate.endpoint.EndpointLifecycle.StopRequested;
import warmgate.provider.ProviderState.Status;
import warmgate.endpoint.EndpointCommand.View;
import warmgate.logging.CapturedLogs;
import warmgate.testing.ManualClock;
import warmgate.provider.ProviderState;

// In-memory journal (EventSourcedBehaviorTestKit), a scripted provider and a manual clock; no I/O.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(TestKitJUnit5Extension.class)
class EndpointLifecycleTest {
  private static final Duration IDLE = Duration.ofMinutes(5);
  private static final Duration LEASE_TTL = Duration.ofMinutes(1);
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final AtomicInteger names = new AtomicInteger();

  @JUnit5TestKit
  public ActorTestKit testKit =
      new JUnit5TestKitBuilder().withCustomConfig(EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load())).build();

  /** What an endpoint reported, as lines: "state WARM 1 0" (phase, queued, in flight), "coldStart PT1M30S", "stopped". */
  static final class RecordingMetrics implements EndpointMetrics {
    final List<String> reported = new CopyOnWriteArrayList<>();
    final AtomicInteger journalWrites = new AtomicInteger();

    @Override
    public void state(String endpoint, Phase phase, int queued, int inFlight) {
      reported.add("state " + phase + " " + queued + " " + inFlight);
    }

    @Override
    public void stopped(String endpoint) {
      reported.add("stopped");
    }

    @Override
    public void coldStart(String endpoint, Duration duration) {
      reported.add("coldStart " + duration);
    }

    @Override
    public void journalWrite(Duration duration) {
      if (!duration.isNegative()) { // a negative one would show as a write missing from the count
        journalWrites.incrementAndGet();
      }
    }

    String lastState() {
      return reported.stream().filter(r -> r.startsWith("state ")).reduce((a, b) -> b).orElse(null);
    }

    List<String> coldStarts() {
      return reported.stream().filter(r -> r.startsWith("coldStart ")).toList();
    }
  }

  /** What reached parked jobs, as lines ("Grant job-1", "Unavailable job-2"), and the endpoints recalled. */
  static final class RecordingParkedJobs implements ParkedJobs {
    final List<String> delivered = new CopyOnWriteArrayList<>();
    final List<SlotReply> replies = new CopyOnWriteArrayList<>();
    final List<String> recalled = new CopyOnWriteArrayList<>();

    @Override
    public void deliver(String jobId, SlotReply reply) {
      delivered.add(reply.getClass().getSimpleName() + " " + jobId);
      replies.add(reply);
    }

    @Override
    public void recall(String endpoint) {
      recalled.add(endpoint);
    }
  }

  /** One endpoint under test; each test has its own name so earlier tests' actors cannot interfere. */
  private final class Fixture {
    final FakeProvider provider = new FakeProvider();
    final ManualClock clock = new ManualClock();
    final RecordingMetrics metrics = new RecordingMetrics();
    final RecordingParkedJobs parked = new RecordingParkedJobs();
    final EndpointSettings settings;
    final EventSourcedBehaviorTestKit<EndpointCommand, EndpointLifecycle.Event, EndpointLifecycle.State> kit;

    Fixture(int maxConcurrency) {
      this(maxConcurrency, null);
    }

    Fixture(int maxConcurrency, Status initial) {
      this(maxConcurrency, initial, Duration.ofMillis(50));
    }

    Fixture(int maxConcurrency, Status initial, Duration reconcileInterval) {
      this(maxConcurrency, initial, reconcileInterval, 10, Duration.ZERO);
    }

    Fixture(int maxConcurrency, Status initial, Duration reconcileInterval, int maxStartFailures, Duration failedRetryAfter) {
      this(maxConcurrency, initial, reconcileInterval, maxStartFailures, failedRetryAfter, KeepWarmSettings.FIXED, Duration.ofMillis(50));
    }

    Fixture(KeepWarmSettings keepWarm) {
      this(1, null, Duration.ofMillis(50), 10, Duration.ZERO, keepWarm, Duration.ofMillis(50));
    }

    Fixture(int maxConcurrency, Status initial, Duration reconcileInterval, int maxStartFailures, Duration failedRetryAfter,
        Duration statusPollInterval) {
      this(maxConcurrency, initial, reconcileInterval, maxStartFailures, failedRetryAfter, KeepWarmSettings.FIXED, statusPollInterval);
    }

    Fixture(int maxConcurrency, Status initial, Duration reconcileInterval, int maxStartFailures, Duration failedRetryAfter,
        KeepWarmSettings keepWarm, Duration statusPollInterval) {
      if (initial != null) {
        provider.set(initial);
      }
      settings = new EndpointSettings("ep-" + names.incrementAndGet(), "process", maxConcurrency, 100, IDLE,
          Duration.ofMinutes(10), maxStartFailures, failedRetryAfter, LEASE_TTL, statusPollInterval, reconcileInterval, Duration.ofSeconds(30),
          ConfigFactory.empty(), keepWarm);
      kit = EventSourcedBehaviorTestKit.create(testKit.system(),
          EndpointEntity.create(new ManagedEndpoint(settings, provider, null), EndpointEntity.Deps.of(clock).withMetrics(metrics).withParked(parked)));
    }

    /** Queues the job, then parks it; answers the probe it asked with. */
    TestProbe<SlotReply> park(String jobId) {
      TestProbe<SlotReply> probe = acquire(jobId);
      kit.runCommand(new EndpointCommand.Park(jobId, probe.ref()));
      assertThat(probe.expectMessageClass(EndpointCommand.Parked.class, WAIT).jobId()).isEqualTo(jobId);
      return probe;
    }

    /** A warm endpoint of one slot, held by job-1. */
    Grant warmWithJob1Running() {
      warmUp();
      return acquire("job-1").expectMessageClass(Grant.class, WAIT);
    }

    void enlist(String... jobIds) {
      assertThat(kit.<org.apache.pekko.Done>runCommand(replyTo -> new EndpointCommand.Enlist(List.of(jobIds), replyTo)).reply())
          .isEqualTo(org.apache.pekko.Done.getInstance());
    }

    void awaitDelivered(String... lines) {
      testKit.createTestProbe().awaitAssert(WAIT, () -> {
        assertThat(parked.delivered).containsExactly(lines);
        return null;
      });
    }

    View view() {
      return kit.<View>runCommand(EndpointCommand.Get::new).reply();
    }

    void awaitPhase(Phase phase) {
      TestProbe<Object> waiter = testKit.createTestProbe();
      waiter.awaitAssert(WAIT, () -> {
        assertThat(kit.getState().phase()).isEqualTo(phase);
        return null;
      });
    }

    TestProbe<SlotReply> acquire(String jobId) {
      TestProbe<SlotReply> probe = testKit.createTestProbe();
      kit.runCommand(new Acquire(jobId, probe.ref()));
      return probe;
    }

    /** Makes the endpoint warm with no jobs. */
    void warmUp() {
      TestProbe<SlotReply> probe = acquire("warm-up");
      provider.set(Status.IN_SERVICE);
      Grant grant = probe.expectMessageClass(Grant.class, WAIT);
      kit.runCommand(new Release("warm-up", grant.leaseId()));
    }
  }

  @Test
  void startsEndpointOnFirstAcquireAndGrantsOnceInService() {
    Fixture f = new Fixture(2);

    TestProbe<SlotReply> job = testKit.createTestProbe();
    var result = f.kit.runCommand(new Acquire("job-1", job.ref()));

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
  void repeatedAcquireIsAnsweredWithTheSameLease() {
    Fixture f = new Fixture(1);
    f.warmUp();
    TestProbe<SlotReply> job = f.acquire("job-1");
    Grant first = job.expectMessageClass(Grant.class, WAIT);

    f.kit.runCommand(new Acquire("job-1", job.ref()));

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
  void stopsAfterIdleTimeoutAndBillsFromStartRequestToStop() {
    Fixture f = new Fixture(1);
    f.warmUp();

    f.clock.advance(IDLE.minusSeconds(1));
    f.awaitPhase(Phase.WARM);
    f.kit.runCommand(EndpointCommand.Tick.INSTANCE);
    assertThat(f.kit.getState().phase()).as("not idle long enough yet").isEqualTo(Phase.WARM);

    f.clock.advance(Duration.ofSeconds(1));

    f.awaitPhase(Phase.COLD);
    assertThat(f.provider.stops.get()).isGreaterThanOrEqualTo(1);
    assertThat(f.provider.status()).isEqualTo(Status.ABSENT);
    assertThat(f.view().billedSeconds()).isEqualTo(IDLE.toSeconds());
  }

  @Test
  void adaptiveKeepWarmStaysWarmThroughTheGapsItLearnedAndStopsRightAfterThem() {
    // 8-min gaps: longer than the 5-min idle-timeout, shorter than the 10-min break-even.
    Duration gap = Duration.ofMinutes(8);
    Fixture f = new Fixture(new KeepWarmSettings(KeepWarmSettings.Policy.ADAPTIVE, Duration.ofMinutes(10), 0.0,
        Duration.ofMinutes(1), Duration.ofMinutes(30), 10));
    f.warmUp();
    for (int i = 1; i <= KeepWarmPolicy.Adaptive.MIN_GAPS; i++) {
      f.clock.advance(gap);
      f.kit.runCommand(EndpointCommand.Tick.INSTANCE);
      assertThat(f.kit.getState().phase()).as("kept warm by the break-even rule before gap %d is learned", i).isEqualTo(Phase.WARM);
      TestProbe<SlotReply> job = f.acquire("job-" + i);
      Grant grant = job.expectMessageClass(Grant.class, WAIT);
      f.kit.runCommand(new Release("job-" + i, grant.leaseId()));
    }
    assertThat(f.provider.starts.get()).as("one start for all the jobs").isEqualTo(1);

    f.clock.advance(gap.minusSeconds(1));
    f.kit.runCommand(EndpointCommand.Tick.INSTANCE);
    assertThat(f.kit.getState().phase()).as("warm past idle-timeout, within the learned gap").isEqualTo(Phase.WARM);

    f.clock.advance(Duration.ofSeconds(1));
    f.awaitPhase(Phase.COLD);
    assertThat(f.kit.persistenceTestKit().persistedInStorage("Endpoint|" + f.settings.name()))
        .filteredOn(StopRequested.class::isInstance)
        .extracting(e -> ((StopRequested) e).reason())
        .containsExactly("idle for 480 s, the keep-warm learned from " + KeepWarmPolicy.Adaptive.MIN_GAPS + " gap(s)");
  }

  @Test
  void foldingTheStoredEventsGivesTheEntitysStateAndLedger() {
    Fixture f = new Fixture(1);
    f.warmUp();
    f.clock.advance(IDLE);
    f.awaitPhase(Phase.COLD);

    EndpointLifecycle.State folded = EndpointLifecycle.initialState();
    for (Object event : f.kit.persistenceTestKit().persistedInStorage("Endpoint|" + f.settings.name())) {
      folded = EndpointLifecycle.next(folded, (EndpointLifecycle.Event) event);
    }

    assertThat(folded).isEqualTo(f.kit.getState());
    assertThat(folded.ledger().billedSeconds(f.clock.instant())).isEqualTo(f.view().billedSeconds()).isEqualTo(IDLE.toSeconds());
  }

  @Test
  void staysWarmWhileARunningJobRenewsItsLease() {
    Fixture f = new Fixture(1);
    f.warmUp();
    TestProbe<SlotReply> job = f.acquire("job-1");
    Grant grant = job.expectMessageClass(Grant.class, WAIT);

    for (int i = 0; i < 10; i++) {
      f.clock.advance(Duration.ofSeconds(50));
      f.kit.runCommand(new Renew("job-1", grant.leaseId()));
    }

    assertThat(f.kit.getState().phase()).isEqualTo(Phase.WARM);
    assertThat(f.view().inFlight()).isEqualTo(1);

    f.kit.runCommand(new Release("job-1", grant.leaseId()));
    f.clock.advance(IDLE);
    f.awaitPhase(Phase.COLD);
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
    assertThat(f.acquire("job-2").expectMessageClass(EndpointCommand.Unavailable.class, WAIT).reason()).contains("ResourceLimitExceeded");
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
  void reportsItsStateQueueAndSlotsAndItsColdStartFromTheEventsTimesButNotAgainOnRecovery() {
    Fixture f = new Fixture(1);
    TestProbe<SlotReply> first = f.acquire("job-1");
    f.acquire("job-2");
    assertThat(f.metrics.lastState()).isEqualTo("state STARTING 2 0");

    f.clock.advance(Duration.ofSeconds(90));
    f.provider.set(Status.IN_SERVICE);
    first.expectMessageClass(Grant.class, WAIT);

    assertThat(f.metrics.coldStarts()).containsExactly("coldStart PT1M30S");
    testKit.createTestProbe().awaitAssert(WAIT, () -> assertThat(f.metrics.lastState()).isEqualTo("state WARM 1 1"));
    assertThat(f.metrics.journalWrites).hasValue(2); // StartRequested, CameIntoService

    f.kit.restart();

    assertThat(f.view().state()).isEqualTo(Phase.WARM);
    assertThat(f.metrics.coldStarts()).hasSize(1);
    assertThat(f.metrics.journalWrites).hasValue(2);
    // The queue and the leases live in memory only; the jobs' timers rebuild them.
    assertThat(f.metrics.lastState()).isEqualTo("state WARM 0 0");
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

  @Test
  void stopsWatchingTheProviderWhenItStops() {
    var provider = new FakeProvider();
    var settings = new EndpointSettings("ep-" + names.incrementAndGet(), "process", 1, 100, IDLE, Duration.ofMinutes(10), 3,
        Duration.ZERO, LEASE_TTL, Duration.ofMillis(50), Duration.ofMillis(50), Duration.ofSeconds(30), ConfigFactory.empty());
    ActorRef<EndpointCommand> endpoint =
        testKit.spawn(EndpointEntity.create(new ManagedEndpoint(settings, provider, null), EndpointEntity.Deps.of(new ManualClock()).withMetrics(new RecordingMetrics())));
    TestProbe<View> views = testKit.createTestProbe();
    endpoint.tell(new EndpointCommand.Get(views.ref()));
    views.expectMessageClass(View.class, WAIT);
    assertThat(provider.watchers()).isEqualTo(1);

    testKit.stop(endpoint);

    views.awaitAssert(WAIT, () -> assertThat(provider.watchers()).isZero());
  }

  @Test
  void endpointThatStopsOnThisNodeWithdrawsItsFigures() {
    var metrics = new RecordingMetrics();
    var settings = new EndpointSettings("ep-" + names.incrementAndGet(), "process", 1, 100, IDLE, Duration.ofMinutes(10), 3,
        Duration.ZERO, LEASE_TTL, Duration.ofMillis(50), Duration.ofMillis(50), Duration.ofSeconds(30), ConfigFactory.empty());
    ActorRef<EndpointCommand> endpoint =
        testKit.spawn(EndpointEntity.create(new ManagedEndpoint(settings, new FakeProvider(), null), EndpointEntity.Deps.of(new ManualClock()).withMetrics(metrics)));
    TestProbe<View> views = testKit.createTestProbe();
    endpoint.tell(new EndpointCommand.Get(views.ref()));
    views.expectMessageClass(View.class, WAIT);

    testKit.stop(endpoint);

    assertThat(metrics.reported).contains("state COLD 0 0").last().isEqualTo("stopped");
  }

  @Test
  void everyLineTheEndpointLogsCarriesItsNameInTheMdc() {
    try (CapturedLogs logs = CapturedLogs.of(org.slf4j.Logger.ROOT_LOGGER_NAME)) {
      Fixture f = new Fixture(1);
      f.acquire("job-1");
      f.awaitPhase(Phase.STARTING);
      f.provider.set(Status.IN_SERVICE);
      f.awaitPhase(Phase.WARM);

      testKit.createTestProbe().awaitAssert(WAIT, () -> assertThat(logs.containing(f.settings.name() + ": STARTING -> WARM")).hasSize(1));
      var lines = logs.containing("Endpoint " + f.settings.name());
      assertThat(lines).extracting(e -> e.getFormattedMessage()).anyMatch(m -> m.contains("COLD -> STARTING"));
      assertThat(lines).allSatisfy(e -> assertThat(e.getMDCPropertyMap()).containsEntry("endpoint", f.settings.name()));
    }
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
  void failedEndpointWhileWarmIsStoppedRatherThanBilledIdle() {
    Fixture f = new Fixture(1);
    f.warmUp();

    f.provider.set(new ProviderState(Status.FAILED, "OutOfService: instance health check failed"));

    f.awaitPhase(Phase.COLD);
    assertThat(f.provider.stops.get()).isGreaterThanOrEqualTo(1);
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

    testKit.createTestProbe().awaitAssert(WAIT, () -> assertThat(f.provider.describes.get()).isGreaterThan(describesBefore));
    testKit.createTestProbe().expectNoMessage(Duration.ofMillis(200));
    assertThat(f.kit.getState().phase()).isEqualTo(Phase.COLD);
    assertThat(f.provider.starts.get()).isZero();
  }

  // ---- By hand

  @Test
  void startByHandWarmsAColdEndpointWithoutAJobAndItStillStopsWhenIdle() {
    Fixture f = new Fixture(1);

    var result = f.kit.<StatusReply<View>>runCommand(EndpointCommand.Start::new);

    assertThat(result.reply().isSuccess()).isTrue();
    assertThat(result.reply().getValue().state()).isEqualTo(Phase.STARTING);
    assertThat(result.eventOfType(StartRequested.class).reason()).isEqualTo("started by hand");
    f.provider.set(Status.IN_SERVICE);
    f.awaitPhase(Phase.WARM);

    f.clock.advance(IDLE);
    f.kit.runCommand(EndpointCommand.Tick.INSTANCE);

    f.awaitPhase(Phase.COLD);
    assertThat(f.provider.stops.get()).isEqualTo(1);
  }

  @Test
  void startByHandCutsAStartBackoffShort() {
    Fixture f = new Fixture(1);
    f.provider.failStarts("ResourceLimitExceeded");
    f.acquire("job-1");
    f.awaitPhase(Phase.COLD);
    f.provider.failStarts(null);

    // Refused until the clean-up of the failed start is done, then accepted without waiting out the backoff.
    testKit.createTestProbe().awaitAssert(WAIT, () -> {
      assertThat(f.kit.<StatusReply<View>>runCommand(EndpointCommand.Start::new).reply().isSuccess()).isTrue();
      return null;
    });

    assertThat(f.kit.getState().phase()).isEqualTo(Phase.STARTING);
    testKit.createTestProbe().awaitAssert(WAIT, () -> assertThat(f.provider.starts.get()).isEqualTo(2));
  }

  @Test
  void startByHandOfAStartingOrWarmEndpointChangesNothing() {
    Fixture f = new Fixture(1);
    f.acquire("job-1");

    var whileStarting = f.kit.<StatusReply<View>>runCommand(EndpointCommand.Start::new);

    assertThat(whileStarting.hasNoEvents()).isTrue();
    assertThat(whileStarting.reply().getValue().state()).isEqualTo(Phase.STARTING);
    f.provider.set(Status.IN_SERVICE);
    f.awaitPhase(Phase.WARM);
    var whileWarm = f.kit.<StatusReply<View>>runCommand(EndpointCommand.Start::new);
    assertThat(whileWarm.hasNoEvents()).isTrue();
    assertThat(whileWarm.reply().getValue().state()).isEqualTo(Phase.WARM);
    assertThat(f.provider.starts.get()).isEqualTo(1);
  }

  @Test
  void stopByHandStopsAnIdleWarmEndpoint() {
    Fixture f = new Fixture(1);
    f.warmUp();

    var result = f.kit.<StatusReply<View>>runCommand(EndpointCommand.Stop::new);

    assertThat(result.reply().getValue().state()).isEqualTo(Phase.STOPPING);
    assertThat(result.eventOfType(StopRequested.class).reason()).isEqualTo("stopped by hand");
    f.awaitPhase(Phase.COLD);
    assertThat(f.provider.stops.get()).isEqualTo(1);
    var again = f.kit.<StatusReply<View>>runCommand(EndpointCommand.Stop::new);
    assertThat(again.hasNoEvents()).isTrue();
    assertThat(again.reply().getValue().state()).isEqualTo(Phase.COLD);
  }

  @Test
  void stopByHandIsRefusedWhileStartingOrWhileJobsRunOrWait() {
    Fixture f = new Fixture(1);
    TestProbe<SlotReply> job = f.acquire("job-1");

    var whileStarting = f.kit.<StatusReply<View>>runCommand(EndpointCommand.Stop::new);
    assertThat(whileStarting.reply().isError()).isTrue();
    assertThat(whileStarting.reply().getError().getMessage()).contains("starting");

    f.provider.set(Status.IN_SERVICE);
    Grant grant = job.expectMessageClass(Grant.class, WAIT);
    f.acquire("job-2");
    var whileRunning = f.kit.<StatusReply<View>>runCommand(EndpointCommand.Stop::new);
    assertThat(whileRunning.hasNoEvents()).isTrue();
    assertThat(whileRunning.reply().getError().getMessage()).contains("1 job(s) running and 1 queued");
    assertThat(f.kit.getState().phase()).isEqualTo(Phase.WARM);
    assertThat(f.provider.stops.get()).isZero();

    f.kit.runCommand(new Release("job-1", grant.leaseId()));
  }

  // ---- Parked jobs

  @Test
  void aParkedJobKeepsItsPlaceAndItsGrantGoesThroughParkedJobs() {
    Fixture f = new Fixture(1);
    Grant running = f.warmWithJob1Running();
    TestProbe<SlotReply> second = f.park("job-2");
    TestProbe<SlotReply> third = f.acquire("job-3");
    assertThat(f.view().queued()).as("a parked job still counts as queued").isEqualTo(2);

    f.kit.runCommand(new Release("job-1", running.leaseId()));

    f.awaitDelivered("Grant job-2");
    second.expectNoMessage(Duration.ofMillis(200)); // its actor is gone: the grant went around it
    third.expectNoMessage(Duration.ofMillis(100)); // job-2 came first and keeps the only slot
    assertThat(f.view().inFlight()).isEqualTo(1);
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
    assertThat(f.parked.delivered).isEmpty();
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
    f.awaitDelivered("Grant job-q1"); // in the order enlisted; job-q2 waits for the one slot
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
    f.awaitDelivered("Grant job-2");
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
