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
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import warmgate.config.EndpointSettings;
import warmgate.config.KeepWarmSettings;
import warmgate.endpoint.EndpointCommand.Acquire;
import warmgate.endpoint.EndpointCommand.Grant;
import warmgate.endpoint.EndpointCommand.Release;
import warmgate.endpoint.EndpointCommand.SlotReply;
import warmgate.endpoint.EndpointCommand.View;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.job.Priority;
import warmgate.provider.ProviderState.Status;
import warmgate.testing.ManualClock;

// In-memory journal (EventSourcedBehaviorTestKit), a scripted provider and a manual clock; no I/O. What the
// EndpointLifecycle tests share: one endpoint entity per test, and what it reported.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(TestKitJUnit5Extension.class)
abstract class EndpointLifecycleTestBase {
  static final Duration IDLE = Duration.ofMinutes(5);
  static final Duration LEASE_TTL = Duration.ofMinutes(1);
  static final Duration WAIT = Duration.ofSeconds(5);
  static final AtomicInteger names = new AtomicInteger();

  @JUnit5TestKit
  public ActorTestKit testKit =
      new JUnit5TestKitBuilder().withCustomConfig(EventSourcedBehaviorTestKit.config()
          .withFallback(ConfigFactory.load())).build();

  /** What an endpoint reported, as lines: "state WARM 1 0" (phase, queued, in flight), "coldStart PT1M30S", "stopped".
   * */
  static final class RecordingMetrics implements EndpointMetrics {
    final List<String> reported = new CopyOnWriteArrayList<>();
    final AtomicInteger journalWrites = new AtomicInteger();

    final java.util.Map<String, List<EndpointCommand.OwnerLoad>> owners =
        new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public void owners(String endpoint, List<EndpointCommand.OwnerLoad> loads) {
      owners.put(endpoint, loads);
    }

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
  final class Fixture {
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

    Fixture(int maxConcurrency, Status initial, Duration reconcileInterval, int maxStartFailures,
        Duration failedRetryAfter) {
      this(maxConcurrency, initial, reconcileInterval, maxStartFailures, failedRetryAfter, KeepWarmSettings.FIXED,
          Duration.ofMillis(50));
    }

    Fixture(KeepWarmSettings keepWarm) {
      this(1, null, Duration.ofMillis(50), 10, Duration.ZERO, keepWarm, Duration.ofMillis(50));
    }

    Fixture(int maxConcurrency, Status initial, Duration reconcileInterval, int maxStartFailures,
        Duration failedRetryAfter,
        Duration statusPollInterval) {
      this(maxConcurrency, initial, reconcileInterval, maxStartFailures, failedRetryAfter, KeepWarmSettings.FIXED,
          statusPollInterval);
    }

    Fixture(int maxConcurrency, Status initial, Duration reconcileInterval, int maxStartFailures,
        Duration failedRetryAfter,
        KeepWarmSettings keepWarm, Duration statusPollInterval) {
      if (initial != null) {
        provider.set(initial);
      }
      settings = new EndpointSettings("ep-" + names.incrementAndGet(), "process", maxConcurrency, 100, IDLE,
          Duration.ofMinutes(10), maxStartFailures, failedRetryAfter, LEASE_TTL, statusPollInterval, reconcileInterval,
              Duration.ofSeconds(30),
          ConfigFactory.empty(), keepWarm);
      kit = EventSourcedBehaviorTestKit.create(testKit.system(),
          EndpointEntity.create(new ManagedEndpoint(settings, provider, null),
              EndpointEntity.Deps.of(clock).withMetrics(metrics).withParked(parked)));
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
      List<EndpointCommand.QueuedJob> jobs = new java.util.ArrayList<>();
      for (String jobId : jobIds) {
        jobs.add(new EndpointCommand.QueuedJob(jobId, null, Priority.INTERACTIVE, clock.instant()));
      }
      assertThat(kit.<org.apache.pekko.Done>runCommand(replyTo -> new EndpointCommand.Enlist(jobs, replyTo)).reply())
          .isEqualTo(org.apache.pekko.Done.getInstance());
    }

    void awaitDelivered(String... lines) {
      testKit.createTestProbe().awaitAssert(WAIT, () -> {
        assertThat(parked.delivered).containsExactly(lines);
        return null;
      });
    }

    /** Everything the entity persisted, oldest first. */
    List<Object> events() {
      return kit.persistenceTestKit().persistedInStorage("Endpoint|" + settings.name());
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
      kit.runCommand(new Acquire(jobId, null, Priority.INTERACTIVE, probe.ref()));
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
}
