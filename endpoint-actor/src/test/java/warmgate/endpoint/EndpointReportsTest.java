package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.EndpointCommand.Grant;
import warmgate.endpoint.EndpointCommand.SlotReply;
import warmgate.endpoint.EndpointCommand.View;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.logging.CapturedLogs;
import warmgate.provider.ProviderState.Status;
import warmgate.testing.ManualClock;

// In-memory journal, a scripted provider and a manual clock; no I/O: figures, log context, and the provider watch.
class EndpointReportsTest extends EndpointLifecycleTestBase {

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
  void endpointThatStopsOnThisNodeWithdrawsItsFigures() {
    var metrics = new RecordingMetrics();
    var settings = new EndpointSettings("ep-" + names.incrementAndGet(), "process", 1, 100, IDLE,
        Duration.ofMinutes(10), 3,
        Duration.ZERO, LEASE_TTL, Duration.ofMillis(50), Duration.ofMillis(50), Duration.ofSeconds(30),
            ConfigFactory.empty());
    ActorRef<EndpointCommand> endpoint =
        testKit.spawn(EndpointEntity.create(new ManagedEndpoint(settings, new FakeProvider(), null),
            EndpointEntity.Deps.of(new ManualClock()).withMetrics(metrics)));
    TestProbe<View> views = testKit.createTestProbe();
    endpoint.tell(new EndpointCommand.Get(views.ref()));
    views.expectMessageClass(View.class, WAIT);

    testKit.stop(endpoint);

    assertThat(metrics.reported).contains("state COLD 0 0").last().isEqualTo("stopped");
  }

  @Test
  void stopsWatchingTheProviderWhenItStops() {
    var provider = new FakeProvider();
    var settings = new EndpointSettings("ep-" + names.incrementAndGet(), "process", 1, 100, IDLE,
        Duration.ofMinutes(10), 3,
        Duration.ZERO, LEASE_TTL, Duration.ofMillis(50), Duration.ofMillis(50), Duration.ofSeconds(30),
            ConfigFactory.empty());
    ActorRef<EndpointCommand> endpoint =
        testKit.spawn(EndpointEntity.create(new ManagedEndpoint(settings, provider, null),
            EndpointEntity.Deps.of(new ManualClock()).withMetrics(new RecordingMetrics())));
    TestProbe<View> views = testKit.createTestProbe();
    endpoint.tell(new EndpointCommand.Get(views.ref()));
    views.expectMessageClass(View.class, WAIT);
    assertThat(provider.watchers()).isEqualTo(1);

    testKit.stop(endpoint);

    views.awaitAssert(WAIT, () -> assertThat(provider.watchers()).isZero());
  }

  @Test
  void everyLineTheEndpointLogsCarriesItsNameInTheMdc() {
    try (CapturedLogs logs = CapturedLogs.of(org.slf4j.Logger.ROOT_LOGGER_NAME)) {
      Fixture f = new Fixture(1);
      f.acquire("job-1");
      f.awaitPhase(Phase.STARTING);
      f.provider.set(Status.IN_SERVICE);
      f.awaitPhase(Phase.WARM);

      testKit.createTestProbe().awaitAssert(WAIT, () -> assertThat(logs.containing(f.settings.name()
          + ": STARTING -> WARM")).hasSize(1));
      var lines = logs.containing("Endpoint " + f.settings.name());
      assertThat(lines).extracting(e -> e.getFormattedMessage()).anyMatch(m -> m.contains("COLD -> STARTING"));
      assertThat(lines).allSatisfy(e -> assertThat(e.getMDCPropertyMap()).containsEntry("endpoint", f.settings.name()));
    }
  }
}
