package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import warmgate.endpoint.EndpointCommand.Acquire;
import warmgate.endpoint.EndpointCommand.Described;
import warmgate.endpoint.EndpointCommand.Get;
import warmgate.endpoint.EndpointCommand.Grant;
import warmgate.endpoint.EndpointCommand.ProviderCallDone;
import warmgate.endpoint.EndpointCommand.ProviderCallFailed;
import warmgate.endpoint.EndpointCommand.Release;
import warmgate.endpoint.EndpointCommand.Renew;
import warmgate.endpoint.EndpointCommand.Tick;
import warmgate.endpoint.EndpointCommand.View;
import warmgate.endpoint.EndpointLifecycle.CameIntoService;
import warmgate.endpoint.EndpointLifecycle.Cold;
import warmgate.endpoint.EndpointLifecycle.Ledger;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.endpoint.EndpointLifecycle.StartFailed;
import warmgate.endpoint.EndpointLifecycle.StartRequested;
import warmgate.endpoint.EndpointLifecycle.Starting;
import warmgate.endpoint.EndpointLifecycle.StopRequested;
import warmgate.endpoint.EndpointLifecycle.Stopped;
import warmgate.endpoint.EndpointLifecycle.Stopping;
import warmgate.endpoint.EndpointLifecycle.Warm;
import warmgate.job.ObjectRef;
import warmgate.job.Priority;
import warmgate.provider.ProviderState;
import warmgate.testing.SerializationCheck;

// Every command, reply, event and state of the endpoint entity goes through the serializer the system picks,
// which must be Jackson CBOR; events must also still read the bytes earlier builds wrote.
@ExtendWith(TestKitJUnit5Extension.class)
class EndpointLifecycleSerializationTest {
  private static final Instant AT = Instant.parse("2026-11-23T10:15:30.123456Z");

  @JUnit5TestKit public ActorTestKit testKit = ActorTestKit.create();

  private SerializationCheck check() {
    return new SerializationCheck(testKit.system(), Path.of("src/test/resources/golden"));
  }

  @Test
  void everyCommandAndReplyRoundTrips() {
    SerializationCheck check = check();
    check.roundTrips(new Acquire("job-1", "alice", Priority.BATCH,
        testKit.<EndpointCommand.SlotReply>createTestProbe().ref()));
    check.roundTrips(new Acquire("job-1", null, Priority.INTERACTIVE,
        testKit.<EndpointCommand.SlotReply>createTestProbe().ref()));
    check.roundTrips(new Acquire("job-1", "alice", Priority.INTERACTIVE,
        testKit.<EndpointCommand.SlotReply>createTestProbe().ref(), true));
    check.roundTrips(new Renew("job-1", "lease-1"));
    check.roundTrips(new Renew("job-1", "lease-1", "alice", Priority.BATCH));
    check.roundTrips(new Release("job-1", "lease-1"));
    check.roundTrips(new Get(testKit.<View>createTestProbe().ref()));
    check.roundTrips(new EndpointCommand.Start(testKit.<StatusReply<View>>createTestProbe().ref()));
    check.roundTrips(new EndpointCommand.Stop(testKit.<StatusReply<View>>createTestProbe().ref()));
    check.roundTrips(new EndpointCommand.WarmUp("job-1"));
    check.roundTrips(new Described(new ProviderState(ProviderState.Status.IN_SERVICE, "InService")));
    check.roundTrips(new ProviderCallFailed("start", "throttled"));
    check.roundTrips(new ProviderCallDone("stop"));
    check.roundTrips(new EndpointCommand.ProviderReported("InService"));
    check.roundTrips(Tick.INSTANCE);
    check.roundTrips(EndpointCommand.Leave.INSTANCE);
    check.roundTrips(new EndpointCommand.StoppedToLeave("timed out"));
    check.roundTrips(new Grant("gen3d", "job-1", "lease-1", Duration.ofSeconds(90)));
    check.roundTrips(new EndpointCommand.Unavailable("gen3d", "job-1", "endpoint gen3d is FAILED",
        Duration.ofMinutes(1)));
    check.roundTrips(new EndpointCommand.Park("job-1", testKit.<EndpointCommand.SlotReply>createTestProbe().ref()));
    check.roundTrips(new EndpointCommand.Enlist(java.util.List.of(
        new EndpointCommand.QueuedJob("job-1", "alice", Priority.BATCH, AT),
        new EndpointCommand.QueuedJob("job-2", null, Priority.INTERACTIVE, AT.plusSeconds(1))),
        testKit.<org.apache.pekko.Done>createTestProbe().ref()));
    check.roundTrips(new EndpointCommand.Parked("gen3d", "job-1"));
    check.roundTrips(new EndpointCommand.TurnNear("gen3d", "job-1"));
    check.roundTrips(new EndpointCommand.ResultLanded(new ObjectRef("gen3d-work", "async/out/4f1c.out")));
    check.roundTrips(new EndpointCommand.ResultMayBeThere("gen3d", "job-1",
        new ObjectRef("gen3d-work", "async/out/4f1c.out")));
    check.roundTrips(new View("gen3d", Phase.WARM, 2, 1, AT, 42, "InService", 0, 1));
    check.roundTrips(new View("gen3d", Phase.COLD, 0, 0, null, 0, null, 0, 0));
  }

  @Test
  void everyEventReadsItsGoldenBytes() {
    SerializationCheck check = check();
    check.matchesGolden("endpoint-StartRequested", new StartRequested(AT, "job job-1 is waiting"));
    check.matchesGolden("endpoint-CameIntoService", new CameIntoService(AT, "InService"));
    check.matchesGolden("endpoint-StartFailed", new StartFailed(AT, "ResourceLimitExceeded"));
    check.matchesGolden("endpoint-StopRequested", new StopRequested(AT, "idle for PT10M"));
    check.matchesGolden("endpoint-Stopped", new Stopped(AT, "deleted"));
    check.matchesGolden("endpoint-MarkedFailed", new EndpointLifecycle.MarkedFailed(AT,
        "gave up after 3 failed starts in a row"));
  }

  @Test
  void eventsOfCapacityFallbackAndBilledUnitsReadTheirGoldenBytes() {
    SerializationCheck check = check();
    check.matchesGolden("endpoint-StartRequested-configuration", new StartRequested(AT, "job job-1 is waiting",
        "gen3d-g5"));
    check.matchesGolden("endpoint-CameIntoService-configuration", new CameIntoService(AT, "InService", "gen3d-g6"));
    check.matchesGolden("endpoint-CapacityFallback", new EndpointLifecycle.CapacityFallback(AT, "gen3d-g5",
        "gen3d-g6", "Failed: Unable to provision requested ML compute capacity"));
    check.matchesGolden("endpoint-FallbackStarted", new EndpointLifecycle.FallbackStarted(AT, "gen3d-g6"));
    check.matchesGolden("endpoint-UnitsChanged", new EndpointLifecycle.UnitsChanged(AT, 3));
  }

  @Test
  void statesAndViewWithConfigurationsAndUnitsRoundTrip() {
    SerializationCheck check = check();
    Ledger ledger = new Ledger(12_000, AT, 3, "gen3d-g6");
    check.roundTrips(new Starting(AT, ledger, 1, true, AT.plusSeconds(60)));
    check.roundTrips(new Warm(AT, ledger));
    check.roundTrips(new View("gen3d", Phase.WARM, 2, 1, AT, 42, "InService", 0, 1, "gen3d-g6",
        java.util.List.of(new EndpointCommand.OwnerLoad("alice", 2, 0), new EndpointCommand.OwnerLoad("", 0, 1))));
  }

  @Test
  void everyStateRoundTrips() {
    SerializationCheck check = check();
    Ledger ledger = new Ledger(12_000, AT);
    check.roundTrips(new Cold(AT, new Ledger(0, null), 2, "ResourceLimitExceeded"));
    check.roundTrips(new Starting(AT, ledger, 1));
    check.roundTrips(new Warm(AT, ledger));
    check.roundTrips(new Stopping(AT, ledger));
    check.roundTrips(new EndpointLifecycle.Failed(AT, ledger, "gave up"));
  }

  @Test
  void commandsAndRepliesSentUnderTheirNamesBeforeTheSplitStillRead() {
    var serialization = SerializationExtension.get(testKit.system().classicSystem());
    Object[] messages = {new Renew("job-1", "lease-1"), new Grant("gen3d", "job-1", "lease-1", Duration.ofSeconds(90)),
        EndpointCommand.Leave.INSTANCE, new View("gen3d", Phase.WARM, 2, 1, AT, 42, "InService", 0, 1)};
    for (Object message : messages) {
      var serializer = serialization.findSerializerFor(message);
      byte[] bytes = serialization.serialize(message).get();
      String oldName = "warmgate.endpoint.EndpointLifecycle$" + message.getClass().getSimpleName();
      assertThat(serialization.deserialize(bytes, serializer.identifier(),
          oldName).get())
          .isEqualTo(message);
    }
  }
  /**
   * A rolling update runs nodes from before park-at-once beside new ones: their {@code Acquire} has no
   * {@code mayPark}, and it must read as a job that does not park (as it behaves), not fail.
   */
  @Test
  void anAcquireFromANodeBeforeParkAtOnceReadsAsOneThatDoesNotPark() throws Exception {
    var serialization = SerializationExtension.get(testKit.system().classicSystem());
    Acquire now = new Acquire("job-1", "alice", Priority.BATCH,
        testKit.<EndpointCommand.SlotReply>createTestProbe().ref(), true);
    var serializer = serialization.findSerializerFor(now);
    var cbor = new CBORMapper();
    var tree = (ObjectNode) cbor.readTree(serialization.serialize(now).get());
    assertThat(tree.remove("mayPark")).as("the field an older node does not send")
        .isNotNull();

    Object read = serialization.deserialize(cbor.writeValueAsBytes(tree), serializer.identifier(),
        Acquire.class.getName()).get();

    assertThat(read).isEqualTo(new Acquire("job-1", "alice", Priority.BATCH,
        now.replyTo(), false));
  }
}
