package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;
import warmgate.Json;
import warmgate.job.JobStatus;
import warmgate.provider.InferenceClient;
import warmgate.provider.InferenceException;
import warmgate.request.RequestCommand.JobLookup;

// Review of a held result, and the redrive of a failed job; in-memory, as RequestTestBase.
class RequestReviewAndRedriveTest extends RequestTestBase {
  @Test
  void reviewedJobHoldsItsResultAsideUntilApprovedThenPublishesIt() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(REVIEWED);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.AWAITING_REVIEW);
    var held = RequestState.heldOutput(f.jobId, REVIEWED);
    assertThat(f.blobs.object(OUTPUT)).as("nothing published before approval").isEmpty();
    assertThat(f.blobs.object(held)).isPresent();
    assertThat(f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().heldOutput())
        .isEqualTo(held.toString());

    var reply = f.kit.<StatusReply<JobLookup>>runCommand(replyTo -> new RequestCommand.Approve("bob", replyTo)).reply();

    assertThat(reply.getValue().job().status()).isEqualTo(JobStatus.SUCCEEDED);
    assertThat(f.blobs.object(OUTPUT).orElseThrow().content()).isEqualTo("ply\n".getBytes(StandardCharsets.US_ASCII));
    assertThat(f.blobs.object(OUTPUT).orElseThrow().info().metadata()).containsEntry(InferenceStep.JOB_ID_METADATA,
        f.jobId);
    assertThat(f.blobs.object(held)).as("the held copy is removed").isEmpty();
    assertThat(f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId))
        .anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(Request.ResultApproved.class,
            a -> assertThat(a.reviewer()).isEqualTo("bob")));
  }

  @Test
  void rejectedResultIsDiscardedAndTheJobFailsWithTheReason() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(REVIEWED);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.AWAITING_REVIEW);

    var reply = f.kit.<StatusReply<JobLookup>>runCommand(replyTo -> new RequestCommand.Reject("bob",
        "holes in the mesh", replyTo)).reply();

    assertThat(reply.getValue().job().status()).isEqualTo(JobStatus.FAILED);
    assertThat(reply.getValue().job().error()).isEqualTo("rejected in review by bob: holes in the mesh");
    f.awaitReported();
    assertThat(f.blobs.object(OUTPUT)).isEmpty();
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.blobs.object(RequestState.heldOutput(f.jobId,
        REVIEWED))).isEmpty());
  }

  @Test
  void approveOrRejectOfAJobNotAwaitingReviewIsRefused() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);

    var approve = f.kit.<StatusReply<JobLookup>>runCommand(replyTo -> new RequestCommand.Approve("bob",
        replyTo)).reply();
    var reject = f.kit.<StatusReply<JobLookup>>runCommand(replyTo -> new RequestCommand.Reject("bob", "no",
        replyTo)).reply();

    assertThat(approve.getError().getMessage()).contains("QUEUED", "only jobs awaiting review");
    assertThat(reject.isError()).isTrue();
  }

  @Test
  void reviewedJobInterruptedWhileRunningFindsItsHeldResultAfterRestart() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(REVIEWED);
    var hung = new CompletableFuture<InferenceClient.InferenceResponse>();
    f.model.then(() -> hung);
    f.grant(f.expectAcquire());
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.model.calls.get()).isEqualTo(1));
    // The attempt wrote its result, then the node died before the event was persisted.
    f.blobs.put(RequestState.heldOutput(f.jobId, REVIEWED), "ply\n".getBytes(StandardCharsets.US_ASCII), "model/ply",
        Map.of(InferenceStep.JOB_ID_METADATA, f.jobId)).toCompletableFuture().join();

    f.kit.restart();

    f.awaitStatus(JobStatus.AWAITING_REVIEW);
    assertThat(f.blobs.object(OUTPUT)).isEmpty();
  }

  @Test
  void retryRedrivesAFailedJobWithAFreshAttemptBudgetAndRemovesTheOldErrorReport() {
    Fixture f = new Fixture(Options.DEFAULTS.maxAttempts(1));
    f.model.thenFail(InferenceException.Kind.TRANSIENT, "ThrottlingException");
    f.submitAndGrant();
    f.awaitReported();
    assertThat(((RequestState.Failed) f.kit.getState()).error()).contains("gave up after 1 attempts");

    var result = f.kit.<StatusReply<JobLookup>>runCommand(replyTo -> new RequestCommand.Retry("capacity is back",
        replyTo));

    assertThat(result.reply().getValue().job().status()).isEqualTo(JobStatus.WAITING_FOR_INPUTS);
    assertThat(result.eventOfType(Request.JobRetried.class).reason()).isEqualTo("capacity is back");
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);
    assertThat(f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().attempts())
        .as("attempts over all runs").isEqualTo(2);
    assertThat(f.blobs.object(OUTPUT)).isPresent();
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.blobs.object(SPEC.errorOutput())).isEmpty());
  }

  @Test
  void retryOfAJobThatHasNotFailedIsRefused() {
    Fixture f = new Fixture();
    f.submitAndGrant();
    f.awaitStatus(JobStatus.SUCCEEDED);

    var reply = f.kit.<StatusReply<JobLookup>>runCommand(replyTo -> new RequestCommand.Retry(null, replyTo)).reply();

    assertThat(reply.isError()).isTrue();
    assertThat(reply.getError().getMessage()).contains("SUCCEEDED", "only failed jobs");
  }

  @Test
  void aJobRedrivenWhileItsErrorReportIsBeingWrittenWritesTheReportOfItsNextFailure() throws Exception {
    Fixture f = new Fixture();
    f.model.thenFail(InferenceException.Kind.PERMANENT, "ModelError: first run");
    f.model.thenFail(InferenceException.Kind.PERMANENT, "ModelError: second run");
    var firstReport = new CompletableFuture<Void>();
    f.heldWrites.set(firstReport);
    f.submitAndGrant();
    f.awaitStatus(JobStatus.FAILED);
    f.endpointIgnoringProbe().awaitAssert(WAIT,
        () -> assertThat(f.putCalls.get()).as("the first report is being written").isEqualTo(1));

    f.kit.<StatusReply<JobLookup>>runCommand(replyTo -> new RequestCommand.Retry("model fixed", replyTo));
    var acquire = f.expectAcquire();
    f.heldWrites.set(null);
    firstReport.complete(null); // written now: its answer reaches the redriven job, queued and owing no report
    f.grant(acquire);

    f.awaitReported();
    assertThat(f.putCalls.get()).as("the second failure wrote its own report").isEqualTo(2);
    var report = Json.mapper().readTree(f.blobs.object(SPEC.errorOutput()).orElseThrow().content());
    assertThat(report.path("job").path("error").asText()).contains("second run");
  }
}
