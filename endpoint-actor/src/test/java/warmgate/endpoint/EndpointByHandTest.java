package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointCommand.Grant;
import warmgate.endpoint.EndpointCommand.Release;
import warmgate.endpoint.EndpointCommand.SlotReply;
import warmgate.endpoint.EndpointCommand.View;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.endpoint.EndpointLifecycle.StartRequested;
import warmgate.endpoint.EndpointLifecycle.StopRequested;
import warmgate.provider.ProviderState.Status;

// In-memory journal, a scripted provider and a manual clock; no I/O: starting and stopping by hand.
class EndpointByHandTest extends EndpointLifecycleTestBase {

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
}
