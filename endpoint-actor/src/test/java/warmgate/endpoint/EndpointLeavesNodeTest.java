package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.EndpointCommand.Acquire;
import warmgate.endpoint.EndpointCommand.Grant;
import warmgate.endpoint.EndpointCommand.Leave;
import warmgate.endpoint.EndpointCommand.Release;
import warmgate.endpoint.EndpointCommand.SlotReply;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.endpoint.EndpointLifecycle.Stopped;
import warmgate.job.Priority;
import warmgate.provider.ProviderState.Status;
import warmgate.testing.ManualClock;

// In-memory journal, a scripted provider and a manual clock: the lifecycle given sharding's stop message (Leave).
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(TestKitJUnit5Extension.class)
class EndpointLeavesNodeTest {
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final AtomicInteger names = new AtomicInteger();

  @JUnit5TestKit
  public ActorTestKit testKit =
      new JUnit5TestKitBuilder().withCustomConfig(EventSourcedBehaviorTestKit.config()
          .withFallback(ConfigFactory.load())).build();

  private final class Fixture {
    final FakeProvider provider;
    final ManualClock clock = new ManualClock();
    final EndpointSettings settings = new EndpointSettings("leaving-" + names.incrementAndGet(), "process", 1, 100,
        Duration.ofMinutes(5), Duration.ofMinutes(10), 3, Duration.ZERO, Duration.ofMinutes(1), Duration.ofMillis(50),
        Duration.ofMillis(50), Duration.ofSeconds(30), ConfigFactory.empty());
    final ActorRef<EndpointCommand> lifecycle;

    Fixture(boolean nodeLocal) {
      provider = new FakeProvider().nodeLocal(nodeLocal);
      lifecycle = testKit.spawn(EndpointEntity.create(new ManagedEndpoint(settings, provider, null),
          EndpointEntity.Deps.of(clock)));
    }

    void warmUp() {
      TestProbe<SlotReply> job = testKit.createTestProbe();
      lifecycle.tell(new Acquire("warm-up", null, Priority.INTERACTIVE, job.ref()));
      job.awaitAssert(WAIT, () -> assertThat(provider.starts.get()).isEqualTo(1));
      provider.set(Status.IN_SERVICE);
      Grant grant = job.expectMessageClass(Grant.class, WAIT);
      lifecycle.tell(new Release("warm-up", grant.leaseId()));
    }

    List<Object> events() {
      return PersistenceTestKit.create(testKit.system()).persistedInStorage("Endpoint|" + settings.name());
    }

    EndpointLifecycle.State folded() {
      EndpointLifecycle.State state = EndpointLifecycle.initialState();
      for (Object event : events()) {
        state = EndpointLifecycle.next(state, (EndpointLifecycle.Event) event);
      }
      return state;
    }

    void leaveAndAwaitStop() {
      TestProbe<Object> watcher = testKit.createTestProbe();
      lifecycle.tell(Leave.INSTANCE);
      watcher.expectTerminated(lifecycle, WAIT);
    }
  }

  @Test
  void leavingTheNodeStopsAWarmNodeLocalEndpointAndClosesItsLedger() {
    Fixture f = new Fixture(true);
    f.warmUp();
    f.clock.advance(Duration.ofSeconds(90));

    f.leaveAndAwaitStop();

    assertThat(f.provider.stops.get()).isEqualTo(1);
    assertThat(f.provider.status()).isEqualTo(Status.ABSENT);
    assertThat(f.events()).last().isInstanceOf(Stopped.class);
    EndpointLifecycle.State state = f.folded();
    assertThat(state.phase()).isEqualTo(Phase.COLD);
    f.clock.advance(Duration.ofHours(1));
    assertThat(state.ledger().billedSeconds(f.clock.instant())).as("billing stopped with the process").isEqualTo(90);
  }

  @Test
  void leavingTheNodeWhileStartingStopsTheProcessWithoutCountingAFailedStart() {
    Fixture f = new Fixture(true);
    TestProbe<SlotReply> job = testKit.createTestProbe();
    f.lifecycle.tell(new Acquire("job-1", null, Priority.INTERACTIVE, job.ref()));
    job.awaitAssert(WAIT, () -> assertThat(f.provider.status()).isEqualTo(Status.CREATING));
    f.clock.advance(Duration.ofSeconds(20));

    f.leaveAndAwaitStop();

    assertThat(f.provider.status()).isEqualTo(Status.ABSENT);
    EndpointLifecycle.State state = f.folded();
    assertThat(state).isInstanceOf(EndpointLifecycle.Cold.class);
    assertThat(((EndpointLifecycle.Cold) state).startFailures()).isZero();
    assertThat(state.ledger().billedSeconds(f.clock.instant().plusSeconds(600))).isEqualTo(20);
    job.expectNoMessage(Duration.ofMillis(200)); // the job asks again and reaches the entity's next home
  }

  @Test
  void leavingTheNodeLeavesARemoteEndpointRunningAndBilled() {
    Fixture f = new Fixture(false);
    f.warmUp();

    f.leaveAndAwaitStop();

    assertThat(f.provider.stops.get()).isZero();
    assertThat(f.provider.status()).isEqualTo(Status.IN_SERVICE);
    assertThat(f.folded().phase()).as("the next home adopts it").isEqualTo(Phase.WARM);
  }
}
