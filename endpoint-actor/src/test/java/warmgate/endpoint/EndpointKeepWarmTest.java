package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import warmgate.config.KeepWarmSettings;
import warmgate.endpoint.EndpointCommand.Grant;
import warmgate.endpoint.EndpointCommand.Release;
import warmgate.endpoint.EndpointCommand.Renew;
import warmgate.endpoint.EndpointCommand.SlotReply;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.endpoint.EndpointLifecycle.StopRequested;
import warmgate.provider.ProviderState.Status;

// In-memory journal, a scripted provider and a manual clock; no I/O: staying warm, stopping when idle, billing.
class EndpointKeepWarmTest extends EndpointLifecycleTestBase {

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
  void adaptiveKeepWarmStaysWarmThroughTheGapsItLearnedAndStopsRightAfterThem() {
    // 8-min gaps: longer than the 5-min idle-timeout, shorter than the 10-min break-even.
    Duration gap = Duration.ofMinutes(8);
    Fixture f = new Fixture(new KeepWarmSettings(KeepWarmSettings.Policy.ADAPTIVE, Duration.ofMinutes(10), 0.0,
        Duration.ofMinutes(1), Duration.ofMinutes(30), 10));
    f.warmUp();
    for (int i = 1; i <= KeepWarmPolicy.Adaptive.MIN_GAPS; i++) {
      f.clock.advance(gap);
      f.kit.runCommand(EndpointCommand.Tick.INSTANCE);
      assertThat(f.kit.getState().phase()).as("kept warm by the break-even rule before gap %d is learned",
          i).isEqualTo(Phase.WARM);
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
    assertThat(folded.ledger().billedSeconds(f.clock.instant())).isEqualTo(f.view().billedSeconds())
        .isEqualTo(IDLE.toSeconds());
  }
}
