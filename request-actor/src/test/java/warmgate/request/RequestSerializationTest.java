package warmgate.request;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import warmgate.endpoint.EndpointCommand;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.job.ObjectRef;
import warmgate.provider.InferenceException;
import warmgate.request.Request.AttemptFailed;
import warmgate.request.Request.AttemptStarted;
import warmgate.request.Request.InputsMissing;
import warmgate.request.Request.JobFailed;
import warmgate.request.Request.JobQueued;
import warmgate.request.Request.JobSubmitted;
import warmgate.request.Request.JobSucceeded;
import warmgate.request.RequestCommand.AttemptFinished;
import warmgate.request.RequestCommand.Get;
import warmgate.request.RequestCommand.Granted;
import warmgate.request.RequestCommand.InputsChecked;
import warmgate.request.RequestCommand.JobLookup;
import warmgate.request.RequestCommand.JobView;
import warmgate.request.RequestCommand.OutputChecked;
import warmgate.request.RequestCommand.Submit;
import warmgate.request.RequestCommand.Submitted;
import warmgate.request.RequestCommand.Timer;
import warmgate.request.RequestState.Blank;
import warmgate.request.RequestState.Failed;
import warmgate.request.RequestState.JobCore;
import warmgate.request.RequestState.Queued;
import warmgate.request.RequestState.RetryWait;
import warmgate.request.RequestState.Running;
import warmgate.request.RequestState.Succeeded;
import warmgate.request.RequestState.WaitingForInputs;
import warmgate.testing.SerializationCheck;

// Every command, reply, event and state of the job entity goes through the serializer the system picks, which
// must be Jackson CBOR; events must also still read the bytes earlier builds wrote.
@ExtendWith(TestKitJUnit5Extension.class)
class RequestSerializationTest {
  private static final Instant AT = Instant.parse("2026-11-23T10:15:30.123456Z");
  private static final ObjectRef IMAGE = new ObjectRef("gen3d", "users/alice/input/cat_image.png");
  private static final ObjectRef MASK = new ObjectRef("gen3d", "users/alice/input/cat_mask.png");
  private static final ObjectRef OUTPUT = new ObjectRef("gen3d", "users/alice/output/cat.ply");

  @JUnit5TestKit public ActorTestKit testKit = ActorTestKit.create();

  private SerializationCheck check() {
    return new SerializationCheck(testKit.system(), Path.of("src/test/resources/golden"));
  }

  private static JobSpec spec() {
    ObjectNode payload = JsonNodeFactory.instance.objectNode().put("points", 2048);
    payload.putArray("tags").add("demo");
    return new JobSpec("gen3d", "alice", Map.of("image", IMAGE, "mask", MASK), OUTPUT, payload, null, IMAGE.toString(),
        false);
  }

  private static JobCore core() {
    return new JobCore("2c5e1f0a", spec(), 1, 0, 0, AT, AT.plusSeconds(3), new RequestState.Callback(JobStatus.FAILED,
        1, AT.plusSeconds(9)));
  }

  @Test
  void everyCommandAndReplyRoundTrips() {
    SerializationCheck check = check();
    JobView view = new JobView("2c5e1f0a", JobStatus.SUCCEEDED, "gen3d", "alice", 1, AT, AT.plusSeconds(3),
        Map.of("image", IMAGE.toString()), OUTPUT.toString(), null, null, warmgate.job.Priority.BATCH);
    var statusProbe = testKit.<StatusReply<JobLookup>>createTestProbe().ref();
    check.roundTrips(new Submit(spec(), testKit.<StatusReply<Submitted>>createTestProbe().ref()));
    check.roundTrips(new Submit(spec().withRouteOptions(false, null, null, true),
        testKit.<StatusReply<Submitted>>createTestProbe().ref()));
    check.roundTrips(new Get(testKit.<JobLookup>createTestProbe().ref()));
    check.roundTrips(new RequestCommand.Cancel("not needed", testKit.<StatusReply<JobLookup>>createTestProbe().ref()));
    check.roundTrips(new Granted(new EndpointCommand.Grant("gen3d", "2c5e1f0a", "lease-1", Duration.ofSeconds(90))));
    check.roundTrips(new InputsChecked(List.of(MASK.toString()), null));
    check.roundTrips(new AttemptFinished(2, null, InferenceException.Kind.TRANSIENT, "503 from the model"));
    check.roundTrips(new OutputChecked(1, "etag", true, null));
    check.roundTrips(new RequestCommand.Retry("mask uploaded", statusProbe));
    check.roundTrips(new RequestCommand.Approve("bob", statusProbe));
    check.roundTrips(new RequestCommand.Reject("bob", "holes in the mesh", statusProbe));
    check.roundTrips(new RequestCommand.EndpointRefused(new EndpointCommand.Unavailable("gen3d", "2c5e1f0a", "FAILED",
        Duration.ofMinutes(1))));
    check.roundTrips(new RequestCommand.ParkAccepted(new EndpointCommand.Parked("gen3d", "2c5e1f0a")));
    check.roundTrips(new RequestCommand.Published("bob", "etag", null, statusProbe));
    check.roundTrips(new RequestCommand.ErrorReportWritten(null, "S3 unreachable"));
    check.roundTrips(new RequestCommand.ErrorReportRefused(
        "the error report can never be written: S3 answered 404 NoSuchBucket"));
    check.roundTrips(new RequestCommand.CannotRun("input mask s3://gen3d/a/../b.png can never exist"));
    check.roundTrips(new RequestCommand.CallbackAnswered(JobStatus.SUCCEEDED, 2, 503, null));
    for (Timer timer : Timer.values()) {
      check.roundTrips(timer);
    }
    check.roundTrips(new RequestCommand.Wake(testKit.<org.apache.pekko.Done>createTestProbe().ref()));
    check.roundTrips(new RequestCommand.Wake(null));
    check.roundTrips(RequestCommand.Stop.INSTANCE);
    check.roundTrips(RequestCommand.ResultNoticed.of(new warmgate.provider.AsyncResult("2c5e1f0a", true,
        new ObjectRef("gen3d-async", "out/a.out"), null)));
    check.roundTrips(RequestCommand.ResultNoticed.of(new warmgate.provider.AsyncResult("2c5e1f0a", false, null,
        "ClientError: Received server error (500) from model")));
    check.roundTrips(RequestCommand.slotReply(new EndpointCommand.ResultMayBeThere("gen3d-async", "2c5e1f0a",
        new ObjectRef("gen3d-async", "out/a.out"))));
    check.roundTrips(new Submitted(view, true, false));
    check.roundTrips(new JobLookup(view));
    check.roundTrips(new JobLookup(null));
  }

  @Test
  void everyEventReadsItsGoldenBytes() {
    SerializationCheck check = check();
    check.matchesGolden("request-JobSubmitted", new JobSubmitted("2c5e1f0a", spec(), AT.plusSeconds(60), AT));
    check.matchesGolden("request-InputsMissing", new InputsMissing(List.of(MASK.toString()), AT));
    check.matchesGolden("request-JobQueued", new JobQueued(AT));
    check.matchesGolden("request-AttemptStarted", new AttemptStarted(1, "lease-1", AT));
    check.matchesGolden("request-AttemptFailed", new AttemptFailed(1, "503 from the model", AT.plusSeconds(2), AT));
    check.matchesGolden("request-JobSucceeded", new JobSucceeded(1, "5d41402abc4b2a76b9719d911017c592", AT));
    check.matchesGolden("request-JobFailed", new JobFailed("the model rejected the input", AT));
    check.matchesGolden("request-JobCancelled", new Request.JobCancelled("not needed any more", AT));
    check.matchesGolden("request-EndpointUnavailable", new Request.EndpointUnavailable("endpoint gen3d is FAILED",
        AT.plusSeconds(60), AT));
    check.matchesGolden("request-ResultHeld", new Request.ResultHeld(1, "5d41402abc4b2a76b9719d911017c592", AT));
    check.matchesGolden("request-ResultApproved", new Request.ResultApproved("bob", "5d41402abc4b2a76b9719d911017c592",
        AT));
    check.matchesGolden("request-ResultRejected", new Request.ResultRejected("bob", "holes in the mesh", AT));
    check.matchesGolden("request-ErrorReported", new Request.ErrorReported("9e107d9d372bb6826bd81d3542a419d6", AT));
    check.matchesGolden("request-ErrorReportAbandoned", new Request.ErrorReportAbandoned(
        "the error report can never be written: s3://gen3d/users/alice/../output/cat_error.json: the key has a '..' "
            + "segment "
            + "(rule: key-no-dot-segments)", AT));
    check.matchesGolden("request-JobRetried", new Request.JobRetried("mask uploaded", AT.plusSeconds(600), AT));
    check.matchesGolden("request-CallbackDelivered", new Request.CallbackDelivered(JobStatus.SUCCEEDED, 1, 204, AT));
    check.matchesGolden("request-AsyncInvoked", new Request.AsyncInvoked(2, "2c5e1f0a",
        new ObjectRef("gen3d-staging", "requests/2c5e1f0a/request.json"),
        new ObjectRef("gen3d-async", "out/1b4a8d7e-6c2f-4e0a-9f3d-2a7b5c8e1d40.out"),
        new ObjectRef("gen3d-async", "failures/1b4a8d7e-6c2f-4e0a-9f3d-2a7b5c8e1d40-error.out"), AT.plusSeconds(3600),
        AT));
    check.matchesGolden("request-AttemptNotRun", new Request.AttemptNotRun(1,
        "Inference Component has no capacity to process this request", AT));
    check.matchesGolden("request-CallbackFailed", new Request.CallbackFailed(JobStatus.FAILED, 2, "HTTP 503",
        AT.plusSeconds(10), AT));
  }

  @Test
  void everyStateRoundTrips() {
    SerializationCheck check = check();
    check.roundTrips(new Blank());
    check.roundTrips(new WaitingForInputs(core(), List.of(MASK.toString()), AT.plusSeconds(60)));
    check.roundTrips(new Queued(core()));
    check.roundTrips(new Running(core(), 1, "lease-1"));
    check.roundTrips(new Running(core(), 1, "lease-1", new RequestState.AsyncCall("2c5e1f0a",
        new ObjectRef("gen3d-staging", "requests/2c5e1f0a/request.json"), new ObjectRef("gen3d-async", "out/a.out"),
        null, AT.plusSeconds(3600))));
    check.roundTrips(new RetryWait(core(), AT.plusSeconds(2), "503"));
    check.roundTrips(new Succeeded(core(), "etag"));
    check.roundTrips(new Failed(core(), "bad input", true, null));
    check.roundTrips(new Failed(core(), "bad input", false,
        "the error report can never be written: the key has a '..' segment"));
    check.roundTrips(new RequestState.AwaitingReview(core(), 1, "etag"));
    check.roundTrips(new RequestState.Cancelled(core(), "not needed any more"));
  }
}
