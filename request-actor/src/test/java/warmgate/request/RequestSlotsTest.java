package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointCommand;
import warmgate.job.JobStatus;
import warmgate.request.RequestCommand.Granted;
import warmgate.request.RequestCommand.JobLookup;

// A queued job's talk with its endpoint: slots, parking, a FAILED endpoint; in-memory, as RequestTestBase.
class RequestSlotsTest extends RequestTestBase {
  @Test
  void queuedJobRepeatsItsRequestForASlotUntilGranted() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);

    f.expectAcquire();
    f.expectAcquire(); // the endpoint may have restarted and lost its queue; asking again rebuilds it
  }

  @Test
  void submittedJobStaysInMemoryPastPassivateAfterWhileItWaitsForASlot() {
    Fixture f = new Fixture(Options.DEFAULTS.passivateAfter(Duration.ofMillis(200)));
    f.uploadInputs();
    f.submit(SPEC);
    f.expectAcquire();

    f.endpointIgnoringProbe().expectNoMessage(Duration.ofMillis(800)); // four times passivate-after

    assertThat(f.status()).isEqualTo(JobStatus.QUEUED);
    f.expectAcquire(); // still asking: the actor did not stop
  }

  @Test
  void aJobQueuedPastParkAfterParksStopsAskingAndItsGrantWakesItToRun() {
    // Asks for a slot every 10 s: no ask comes between the park and its answer, so the park holds.
    Fixture f = new Fixture(Options.DEFAULTS.parkAfter(Duration.ofMillis(200)).acquireInterval(Duration.ofSeconds(10)));
    f.uploadInputs();
    f.submit(SPEC);
    f.expectAcquire();

    EndpointCommand.Park park = f.expectPark();
    assertThat(park.jobId()).isEqualTo(f.jobId);
    park.replyTo().tell(new EndpointCommand.Parked("gen3d", f.jobId));

    f.endpoint.expectNoMessage(Duration.ofSeconds(1)); // parked: it neither asks nor parks again
    // Its grant reaches it through sharding, which starts a new actor; recovered as QUEUED, it takes the slot.
    f.kit.restart();
    assertThat(f.status()).isEqualTo(JobStatus.QUEUED);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);
  }

  @Test
  void aJobThatAskedForASlotAfterItsParkStaysAndParksLater() {
    Fixture f = new Fixture(Options.DEFAULTS.parkAfter(Duration.ofMillis(700)));
    f.uploadInputs();
    f.submit(SPEC);

    EndpointCommand.Park park = f.expectPark();
    f.expectAcquire(); // sent after the park: answered after it, it gave the endpoint this actor again
    park.replyTo().tell(new EndpointCommand.Parked("gen3d", f.jobId));

    f.expectAcquire(); // not parked: still asking
    assertThat(f.expectPark().jobId()).as("and trying to park again").isEqualTo(f.jobId);
  }

  @Test
  void aJobThatParksAtOnceSaysSoInItsAskAndLeavesMemoryOnTheAnswer() {
    Fixture f = new Fixture(Options.DEFAULTS.parkAfter(Duration.ofMinutes(1)).parkAtOnce(true)
        .acquireInterval(Duration.ofSeconds(10)));
    f.uploadInputs();
    f.submit(SPEC);
    EndpointCommand.Acquire ask = f.expectAcquire();
    assertThat(ask.mayPark()).as("the ask is also a park").isTrue();

    ask.replyTo().tell(new EndpointCommand.Parked("gen3d", f.jobId));

    f.endpoint.expectNoMessage(Duration.ofSeconds(1)); // parked: no more asks, no Park of its own
    // Called back into memory (TurnNear through sharding) or granted: recovered as QUEUED, it asks and runs.
    f.kit.restart();
    assertThat(f.status()).isEqualTo(JobStatus.QUEUED);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);
  }

  @Test
  void aJobThatParksAtOnceLeavesOnAnEarlierAnswerThoughItAskedAgainSince() {
    // With park-at-once a kept place stays kept whatever the job asks later, so an answer to an earlier ask holds.
    Fixture f = new Fixture(Options.DEFAULTS.parkAfter(Duration.ofMinutes(1)).parkAtOnce(true)
        .acquireInterval(Duration.ofMillis(200)));
    f.uploadInputs();
    f.submit(SPEC);
    EndpointCommand.Acquire first = f.expectAcquire();
    f.expectAcquire();

    first.replyTo().tell(new EndpointCommand.Parked("gen3d", f.jobId));

    f.endpoint.expectNoMessage(Duration.ofSeconds(1)); // left memory: no more asks
    f.kit.restart(); // its grant or call back starts it again, as sharding would
    assertThat(f.status()).isEqualTo(JobStatus.QUEUED);
  }

  @Test
  void aQueuedJobToldItsTurnIsNearStaysQueuedAndAsks() {
    Fixture f = new Fixture(Options.DEFAULTS.parkAfter(Duration.ofMinutes(1)).parkAtOnce(true));
    f.uploadInputs();
    f.submit(SPEC);
    f.expectAcquire();

    f.kit.runCommand(RequestCommand.slotReply(new EndpointCommand.TurnNear("gen3d", f.jobId)));

    assertThat(f.status()).isEqualTo(JobStatus.QUEUED);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);
  }

  @Test
  void grantThatArrivesAfterTheJobEndedIsGivenBack() {
    Fixture f = new Fixture();
    f.submitAndGrant();
    f.awaitStatus(JobStatus.SUCCEEDED);
    f.expectRelease();

    var late = new EndpointCommand.Grant("gen3d", f.jobId, "late-lease", Duration.ofMinutes(1));
    f.kit.runCommand(new Granted(late));

    assertThat(f.expectRelease().leaseId()).isEqualTo("late-lease");
  }

  @Test
  void refusalByAFailedEndpointPutsTheJobInRetryWaitWithoutUsingAnAttempt() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);
    f.expectAcquire();

    f.kit.runCommand(new RequestCommand.EndpointRefused(new EndpointCommand.Unavailable("gen3d", f.jobId,
        "endpoint gen3d is FAILED: gave up after 3 failed starts", Duration.ofMillis(200))));

    var job = f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job();
    assertThat(job.status()).isEqualTo(JobStatus.RETRY_WAIT);
    assertThat(job.error()).contains("FAILED", "gave up after 3 failed starts");
    assertThat(job.attempts()).isZero();
    // It asks again after the endpoint's retry-after (plus jitter), and runs once granted.
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);
  }

  @Test
  void queuedJobAsksForASlotAgainAfterRestart() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);
    f.expectAcquire();

    f.kit.restart();

    assertThat(f.expectAcquire().jobId()).isEqualTo(f.jobId);
  }
}
