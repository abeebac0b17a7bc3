package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointCommand.Grant;
import warmgate.endpoint.EndpointCommand.Release;
import warmgate.endpoint.EndpointCommand.SlotReply;
import warmgate.endpoint.EndpointCommand.View;
import warmgate.endpoint.EndpointLifecycle.CameIntoService;
import warmgate.endpoint.EndpointLifecycle.CapacityFallback;
import warmgate.endpoint.EndpointLifecycle.Cold;
import warmgate.endpoint.EndpointLifecycle.FallbackStarted;
import warmgate.endpoint.EndpointLifecycle.MarkedFailed;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.endpoint.EndpointLifecycle.StartFailed;
import warmgate.endpoint.EndpointLifecycle.StartRequested;
import warmgate.endpoint.EndpointLifecycle.Starting;
import warmgate.endpoint.EndpointLifecycle.Stopped;
import warmgate.endpoint.EndpointLifecycle.UnitsChanged;
import warmgate.provider.ProviderState;
import warmgate.provider.ProviderState.Status;

// In-memory journal, a scripted provider and a manual clock; no I/O: configurations tried in order when a start
// finds no capacity, and the ledger's unit-seconds.
class EndpointCapacityFallbackTest extends EndpointLifecycleTestBase {
  private static final ProviderState NO_CAPACITY =
      ProviderState.capacityShortage("Failed: Unable to provision requested ML compute capacity");

  @Test
  void secondConfigurationServesWhenTheFirstHasNoCapacity() {
    Fixture f = new Fixture(1);
    f.provider.configurations("g5", "g6");
    Instant t0 = f.clock.instant();
    TestProbe<SlotReply> job = f.acquire("job-1");
    f.awaitPhase(Phase.STARTING);

    f.clock.advance(Duration.ofSeconds(60));
    f.provider.set(NO_CAPACITY);

    awaitStarts(f, "g5", "g6");
    f.clock.advance(Duration.ofSeconds(30));
    f.provider.set(Status.IN_SERVICE);
    assertThat(job.expectMessageClass(Grant.class, WAIT).jobId()).isEqualTo("job-1");
    f.clock.advance(Duration.ofSeconds(100));

    assertThat(f.events()).containsExactly(
        new StartRequested(t0, "job job-1 asked for a slot", "g5"),
        new CapacityFallback(t0.plusSeconds(60), "g5", "g6", NO_CAPACITY.detail()),
        new FallbackStarted(t0.plusSeconds(60), "g6"),
        new CameIntoService(t0.plusSeconds(90), "IN_SERVICE", "g6"));
    View view = f.view();
    assertThat(view.state()).isEqualTo(Phase.WARM);
    assertThat(view.configuration()).isEqualTo("g6");
    assertThat(view.billedSeconds()).isEqualTo(60 + 30 + 100);
    // The first configuration's 60 s are a closed stretch; the second's is open since the fallback.
    assertThat(f.kit.getState().ledger()).isEqualTo(new EndpointLifecycle.Ledger(60_000, t0.plusSeconds(60), 1,
        "g6"));
    assertThat(f.provider.stops.get()).as("the failed endpoint was deleted before the next start").isEqualTo(1);
  }

  @Test
  void noCapacityForAnyConfigurationIsAnOrdinaryFailedStartAndTheNextStartBeginsWithTheFirst() {
    Fixture f = new Fixture(1);
    f.provider.configurations("g5", "g6");
    f.acquire("job-1");
    f.awaitPhase(Phase.STARTING);
    f.provider.set(NO_CAPACITY);
    awaitStarts(f, "g5", "g6");

    f.provider.set(NO_CAPACITY);

    f.awaitPhase(Phase.COLD);
    Cold cold = (Cold) f.kit.getState();
    assertThat(cold.startFailures()).isEqualTo(1);
    assertThat(cold.lastFailure()).contains("no capacity for any of the configurations [g5, g6]",
        "Unable to provision");
    assertThat(f.events()).filteredOn(CapacityFallback.class::isInstance).hasSize(1);
    assertThat(f.events()).last().isInstanceOf(StartFailed.class);

    f.clock.advance(Duration.ofSeconds(2)); // the first backoff

    awaitStarts(f, "g5", "g6", "g5");
    assertThat(f.kit.getState().configuration()).isEqualTo("g5");
  }

  @Test
  void noCapacityForAnyConfigurationCountsTowardsMaxStartFailures() {
    Fixture f = new Fixture(1, null, Duration.ofMillis(50), 1, Duration.ZERO);
    f.provider.configurations("g5", "g6");
    TestProbe<SlotReply> job = f.acquire("job-1");
    f.awaitPhase(Phase.STARTING);
    f.provider.set(NO_CAPACITY);
    awaitStarts(f, "g5", "g6");

    f.provider.set(NO_CAPACITY);

    f.awaitPhase(Phase.FAILED);
    assertThat(job.expectMessageClass(EndpointCommand.Unavailable.class, WAIT).reason()).contains("no capacity");
    assertThat(f.events()).last().isInstanceOf(MarkedFailed.class);
    assertThat(f.view().configuration()).isNull();
  }

  @Test
  void restartWhileTheFailedEndpointIsDeletedResumesWithTheNextConfiguration() {
    Fixture f = new Fixture(1);
    f.provider.configurations("g5", "g6");
    f.provider.stopsLeave(Status.DELETING);
    f.acquire("job-1");
    f.awaitPhase(Phase.STARTING);
    f.provider.set(NO_CAPACITY);
    testKit.createTestProbe().awaitAssert(WAIT, () -> assertThat(f.provider.status()).isEqualTo(Status.DELETING));

    var restarted = f.kit.restart();

    Starting starting = (Starting) restarted.state();
    assertThat(starting.clearing()).isTrue();
    assertThat(starting.configuration()).isEqualTo("g6");
    f.provider.set(Status.ABSENT);
    awaitStarts(f, "g5", "g6");
    f.provider.set(Status.IN_SERVICE);
    assertThat(f.acquire("job-1").expectMessageClass(Grant.class, WAIT).jobId()).isEqualTo("job-1");
    assertThat(f.view().configuration()).isEqualTo("g6");
  }

  @Test
  void restartAfterTheFallbackStartWasLostStartsTheSameConfigurationAgain() {
    Fixture f = new Fixture(1);
    f.provider.configurations("g5", "g6", "p4");
    f.acquire("job-1");
    f.awaitPhase(Phase.STARTING);
    f.provider.set(NO_CAPACITY);
    awaitStarts(f, "g5", "g6");
    f.provider.set(Status.ABSENT); // as if the start of g6 never reached the provider

    f.kit.restart();

    awaitStarts(f, "g5", "g6", "g6");
    assertThat(f.provider.status()).isEqualTo(Status.CREATING);
  }

  @Test
  void startAfterAStopTriesTheFirstConfigurationAgain() {
    Fixture f = new Fixture(1);
    f.provider.configurations("g5", "g6");
    TestProbe<SlotReply> job = f.acquire("job-1");
    f.awaitPhase(Phase.STARTING);
    f.provider.set(NO_CAPACITY);
    awaitStarts(f, "g5", "g6");
    f.provider.set(Status.IN_SERVICE);
    f.kit.runCommand(new Release("job-1", job.expectMessageClass(Grant.class, WAIT).leaseId()));
    assertThat(f.kit.<StatusReply<View>>runCommand(EndpointCommand.Stop::new).reply().isSuccess()).isTrue();
    f.awaitPhase(Phase.COLD);

    f.acquire("job-2");

    awaitStarts(f, "g5", "g6", "g5");
    assertThat(f.events()).filteredOn(StartRequested.class::isInstance)
        .extracting(e -> ((StartRequested) e).configuration()).containsExactly("g5", "g5");
    assertThat(f.view().configuration()).isEqualTo("g5");
  }

  @Test
  void threeBilledUnitsForTenSecondsCountThirtyUnitSeconds() {
    Fixture f = new Fixture(1);
    Instant t0 = f.clock.instant();
    TestProbe<SlotReply> job = f.acquire("job-1");
    f.awaitPhase(Phase.STARTING);

    f.provider.set(new ProviderState(Status.IN_SERVICE, "InService", false, 3));

    job.expectMessageClass(Grant.class, WAIT);
    f.clock.advance(Duration.ofSeconds(10));
    assertThat(f.view().billedSeconds()).isEqualTo(30);
    assertThat(f.events()).containsExactly(new StartRequested(t0, "job job-1 asked for a slot", null),
        new UnitsChanged(t0, 3), new CameIntoService(t0, "InService", null));

    f.provider.set(new ProviderState(Status.IN_SERVICE, "InService", false, 1)); // scaled in

    testKit.createTestProbe().awaitAssert(WAIT,
        () -> assertThat(f.events()).last().isEqualTo(new UnitsChanged(t0.plusSeconds(10), 1)));
    f.clock.advance(Duration.ofSeconds(10));
    assertThat(f.view().billedSeconds()).isEqualTo(30 + 10);
  }

  @Test
  void ledgerFoldsUnitsAndConfigurationsFromTheEventsAlone() {
    Instant t0 = Instant.parse("2026-12-01T10:00:00Z");
    EndpointLifecycle.State state = EndpointLifecycle.initialState();
    for (EndpointLifecycle.Event event : List.of(
        new StartRequested(t0, "job", "g5"),
        new CapacityFallback(t0.plusSeconds(60), "g5", "g6", "no capacity"),
        new FallbackStarted(t0.plusSeconds(70), "g6"),
        new CameIntoService(t0.plusSeconds(100), "InService", "g6"),
        new UnitsChanged(t0.plusSeconds(100), 2),
        new Stopped(t0.plusSeconds(200), "idle"))) {
      state = EndpointLifecycle.next(state, event);
    }

    assertThat(state.ledger().billedSeconds(t0.plusSeconds(999))).isEqualTo(60 + 40 + 2 * 100);
    assertThat(state.configuration()).as("nothing runs").isNull();
  }

  @Test
  void journalWrittenBeforeConfigurationsAndUnitsBillsOneUnit() {
    Instant t0 = Instant.parse("2026-12-01T10:00:00Z");
    EndpointLifecycle.State state = EndpointLifecycle.initialState();
    state = EndpointLifecycle.next(state, new StartRequested(t0, "job"));
    state = EndpointLifecycle.next(state, new CameIntoService(t0.plusSeconds(5), "InService"));

    assertThat(state.ledger().billedSeconds(t0.plusSeconds(50))).isEqualTo(50);
    assertThat(state.ledger().units()).isEqualTo(1);
    assertThat(state.configuration()).isNull();
  }

  private void awaitStarts(Fixture f, String... configurations) {
    testKit.createTestProbe().awaitAssert(WAIT, () -> {
      assertThat(f.provider.startedWith).containsExactly(configurations);
      return null;
    });
  }
}
