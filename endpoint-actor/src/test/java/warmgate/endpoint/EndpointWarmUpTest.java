package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointCommand.Grant;
import warmgate.endpoint.EndpointCommand.SlotReply;
import warmgate.endpoint.EndpointCommand.WarmUp;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.endpoint.EndpointLifecycle.StartRequested;
import warmgate.endpoint.EndpointLifecycle.StopRequested;
import warmgate.provider.ProviderState.Status;

// In-memory journal, a scripted provider and a manual clock; no I/O: the warm-up hint of a job waiting for its mask.
class EndpointWarmUpTest extends EndpointLifecycleTestBase {

  @Test
  void warmUpStartsAColdEndpointWithAReasonNamingTheJobAndHoldsNoSlot() {
    Fixture f = new Fixture(1);

    var result = f.kit.runCommand(new WarmUp("job-7"));

    assertThat(result.eventOfType(StartRequested.class).reason())
        .isEqualTo("job job-7 waits for an input (warm-on-first-input)");
    assertThat(f.kit.getState().phase()).isEqualTo(Phase.STARTING);
    testKit.createTestProbe().awaitAssert(WAIT, () -> assertThat(f.provider.starts.get()).isEqualTo(1));
    f.provider.set(Status.IN_SERVICE);
    f.awaitPhase(Phase.WARM);
    assertThat(f.view().queued()).isZero();
    assertThat(f.view().inFlight()).isZero();
    // The job, once its mask is there, gets a slot at once.
    assertThat(f.acquire("job-7").expectMessageClass(Grant.class, WAIT).jobId()).isEqualTo("job-7");
  }

  @Test
  void endpointWarmedForAJobWhoseMaskNeverComesStopsWhenIdle() {
    Fixture f = new Fixture(1);
    f.kit.runCommand(new WarmUp("job-7"));
    f.provider.set(Status.IN_SERVICE);
    f.awaitPhase(Phase.WARM);

    f.clock.advance(IDLE.minusSeconds(1));
    f.kit.runCommand(EndpointCommand.Tick.INSTANCE);
    assertThat(f.kit.getState().phase()).isEqualTo(Phase.WARM);
    f.clock.advance(Duration.ofSeconds(1));
    var tick = f.kit.runCommand(EndpointCommand.Tick.INSTANCE);

    assertThat(tick.eventOfType(StopRequested.class)).isNotNull();
    f.provider.set(Status.ABSENT);
    f.awaitPhase(Phase.COLD);
    // Billed from the hint's start request to the stop: the price of a warm-up no job used.
    assertThat(f.view().billedSeconds()).isEqualTo(IDLE.toSeconds());
  }

  @Test
  void warmUpOfAWarmIdleEndpointResetsItsIdleClockWithoutAnEvent() {
    Fixture f = new Fixture(1);
    f.warmUp();
    f.clock.advance(IDLE.minusSeconds(10));

    var hint = f.kit.runCommand(new WarmUp("job-8"));

    assertThat(hint.hasNoEvents()).isTrue();
    f.clock.advance(Duration.ofSeconds(20)); // past the idle timeout counted from the last job
    assertThat(f.kit.runCommand(EndpointCommand.Tick.INSTANCE).hasNoEvents()).isTrue();
    assertThat(f.kit.getState().phase()).isEqualTo(Phase.WARM);
    f.clock.advance(IDLE);
    assertThat(f.kit.runCommand(EndpointCommand.Tick.INSTANCE).eventOfType(StopRequested.class)).isNotNull();
  }

  @Test
  void warmUpOfAStartingEndpointChangesNothing() {
    Fixture f = new Fixture(1);
    TestProbe<SlotReply> job1 = f.acquire("job-1");

    var hints = f.kit.runCommand(new WarmUp("job-2"));

    assertThat(hints.hasNoEvents()).isTrue();
    assertThat(f.view().queued()).isEqualTo(1);
    f.provider.set(Status.IN_SERVICE);
    job1.expectMessageClass(Grant.class, WAIT);
    assertThat(f.provider.starts.get()).isEqualTo(1);
  }

  @Test
  void warmUpOfAStoppingEndpointIsIgnored() {
    Fixture f = new Fixture(1);
    f.warmUp();
    f.provider.stopsLeave(Status.DELETING); // the provider's delete takes its time
    f.clock.advance(IDLE);
    f.kit.runCommand(EndpointCommand.Tick.INSTANCE);
    assertThat(f.kit.getState().phase()).isEqualTo(Phase.STOPPING);

    assertThat(f.kit.runCommand(new WarmUp("job-9")).hasNoEvents()).isTrue();

    assertThat(f.kit.getState().phase()).isEqualTo(Phase.STOPPING);
    assertThat(f.provider.starts.get()).isEqualTo(1);
  }

  @Test
  void warmUpOfAFailedEndpointLeavesItFailed() {
    Fixture f = new Fixture(1, null, Duration.ofMillis(50), 1, Duration.ZERO);
    f.provider.failStarts("ResourceLimitExceeded");
    f.acquire("job-1");
    f.awaitPhase(Phase.FAILED);

    assertThat(f.kit.runCommand(new WarmUp("job-2")).hasNoEvents()).isTrue();

    assertThat(f.kit.getState().phase()).isEqualTo(Phase.FAILED);
  }
}
