package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointCommand;
import warmgate.job.JobStatus;
import warmgate.provider.InferenceClient;
import warmgate.request.RequestCommand.Granted;

// Cancellation of a job in each state; in-memory, as RequestTestBase.
class RequestCancellationTest extends RequestTestBase {
  @Test
  void cancelOfAQueuedJobEndsItAndTakesItOutOfTheEndpointsQueue() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);
    f.expectAcquire();

    var result = f.cancel();

    assertThat(result.reply().getValue().job().status()).isEqualTo(JobStatus.CANCELLED);
    assertThat(result.eventOfType(Request.JobCancelled.class).reason()).isEqualTo("not needed any more");
    assertThat(f.expectRelease().leaseId()).as("a release without lease leaves the queue").isNull();
    f.kit.runCommand(new Granted(new EndpointCommand.Grant("gen3d", f.jobId, "late", Duration.ofMinutes(1))));
    assertThat(f.expectRelease().leaseId()).isEqualTo("late");
    assertThat(f.model.calls.get()).isZero();
  }

  @Test
  void cancelOfAJobWaitingForItsMaskStopsTheWait() {
    Fixture f = new Fixture();
    f.blobs.put(IMAGE, new byte[] {1});
    f.submit(SPEC);
    f.awaitStatus(JobStatus.WAITING_FOR_INPUTS);

    assertThat(f.cancel().reply().getValue().job().status()).isEqualTo(JobStatus.CANCELLED);
    f.blobs.put(MASK, new byte[] {2});
    f.kit.runCommand(RequestCommand.Timer.CHECK_INPUTS);

    f.endpoint.expectNoMessage(Duration.ofMillis(300));
    assertThat(f.status()).isEqualTo(JobStatus.CANCELLED);
  }

  @Test
  void cancelOfARunningJobReturnsItsSlotAndDropsTheResultUnwritten() {
    Fixture f = new Fixture();
    CompletableFuture<InferenceClient.InferenceResponse> modelAnswer = new CompletableFuture<>();
    f.model.then(() -> modelAnswer);
    var grant = f.submitAndGrant();
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.model.calls.get()).isEqualTo(1));

    assertThat(f.cancel().reply().getValue().job().status()).isEqualTo(JobStatus.CANCELLED);
    assertThat(f.expectRelease().leaseId()).isEqualTo(grant.leaseId());

    modelAnswer.complete(new InferenceClient.InferenceResponse("ply\n".getBytes(StandardCharsets.US_ASCII),
        "model/ply"));
    f.endpoint.expectNoMessage(Duration.ofMillis(300));
    assertThat(f.blobs.object(OUTPUT)).isEmpty();
    assertThat(f.status()).isEqualTo(JobStatus.CANCELLED);
  }

  @Test
  void cancelOfAFinishedJobIsRefusedAndOfACancelledOneChangesNothing() {
    Fixture f = new Fixture();
    f.submitAndGrant();
    f.awaitStatus(JobStatus.SUCCEEDED);

    var refused = f.cancel();
    assertThat(refused.reply().isError()).isTrue();
    assertThat(refused.reply().getError().getMessage()).contains("is SUCCEEDED");
    assertThat(refused.hasNoEvents()).isTrue();

    Fixture other = new Fixture();
    other.uploadInputs();
    other.submit(SPEC);
    other.cancel();
    var again = other.cancel();
    assertThat(again.hasNoEvents()).isTrue();
    assertThat(again.reply().getValue().job().status()).isEqualTo(JobStatus.CANCELLED);
  }

  @Test
  void cancelOfAnUnknownJobAnswersNothingAndPersistsNothing() {
    Fixture f = new Fixture();

    var result = f.cancel();

    assertThat(result.reply().getValue().job()).isNull();
    assertThat(result.hasNoEvents()).isTrue();
  }

  @Test
  void cancelledJobStaysCancelledAcrossRestart() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);
    f.cancel();

    f.kit.restart();

    assertThat(f.status()).isEqualTo(JobStatus.CANCELLED);
  }

  @Test
  void aQueuedJobHasWorkLeftAndACancelledOneHasNone() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);
    f.awaitStatus(JobStatus.QUEUED);
    assertThat(((RequestState.Job) f.kit.getState()).hasWork()).isTrue();

    f.cancel();

    assertThat(((RequestState.Job) f.kit.getState()).hasWork()).isFalse();
  }
}
