package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import warmgate.job.JobStatus;
import warmgate.provider.InferenceClient;
import warmgate.provider.InferenceException;
import warmgate.request.RequestCommand.JobLookup;
import warmgate.testing.InMemoryBlobStore;

// A granted job's attempts and their outcomes; in-memory, as RequestTestBase.
class RequestAttemptsTest extends RequestTestBase {
  @Test
  void grantedJobRunsWritesItsOutputStampedWithItsIdAndSucceeds() {
    Fixture f = new Fixture();
    var grant = f.submitAndGrant();

    f.awaitStatus(JobStatus.SUCCEEDED);

    var output = f.blobs.object(OUTPUT).orElseThrow();
    assertThat(new String(output.content(), StandardCharsets.US_ASCII)).isEqualTo("ply\n");
    assertThat(output.info().metadata())
        .containsEntry(InferenceStep.JOB_ID_METADATA, f.jobId)
        .containsEntry(InferenceStep.ATTEMPT_METADATA, "1");
    assertThat(f.model.lastBody).contains("\"image\":\"aW1hZ2UtYnl0ZXM=\"").contains("\"mask\":\"bWFzay1ieXRlcw==\"");
    assertThat(f.expectRelease().leaseId()).isEqualTo(grant.leaseId());
  }

  @Test
  void transientFailureReleasesTheSlotAndRetriesAfterABackoffWithJitter() {
    Fixture f = new Fixture();
    f.model.thenFail(InferenceException.Kind.TRANSIENT, "503 from the model");
    var grant = f.submitAndGrant();

    f.awaitStatus(JobStatus.RETRY_WAIT);

    assertThat(f.expectRelease().leaseId()).isEqualTo(grant.leaseId());
    var retry = (RequestState.RetryWait) f.kit.getState();
    Duration delay = Duration.between(f.clock.instant(), retry.retryAt());
    assertThat(delay).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(2)); // backoff-min 2 s, half of it jitter
    assertThat(retry.error()).contains("503 from the model");

    f.kit.runCommand(RequestCommand.Timer.RETRY_DUE);
    f.grant(f.expectAcquire());

    f.awaitStatus(JobStatus.SUCCEEDED);
    assertThat(f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().attempts()).isEqualTo(2);
  }

  @Test
  void permanentFailureFailsAtOnceAndReturnsTheSlot() {
    Fixture f = new Fixture();
    f.model.thenFail(InferenceException.Kind.PERMANENT, "model answered 400: mask must match the image");
    var grant = f.submitAndGrant();

    f.awaitStatus(JobStatus.FAILED);

    assertThat(f.expectRelease().leaseId()).isEqualTo(grant.leaseId());
    var job = f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job();
    assertThat(job.attempts()).isEqualTo(1);
    assertThat(job.error()).contains("failed permanently").contains("mask must match");
    assertThat(f.model.calls.get()).isEqualTo(1);
  }

  @Test
  void inputDeletedBeforeTheRunIsAPermanentFailure() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);
    var acquire = f.expectAcquire();
    InMemoryBlobStore blobs = f.blobs;
    blobs.failWith(new warmgate.blob.BlobNotFoundException(MASK));

    f.grant(acquire);

    f.awaitStatus(JobStatus.FAILED);
    assertThat(f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().error()).contains("input " + MASK
        + " does not exist");
  }

  @Test
  void exhaustedRetriesFailTheJobWithTheLastError() {
    Fixture f = new Fixture(Options.DEFAULTS.maxAttempts(2));
    f.model.thenFail(InferenceException.Kind.TRANSIENT, "throttled");
    f.model.thenFail(InferenceException.Kind.TRANSIENT, "still throttled");
    f.submitAndGrant();
    f.awaitStatus(JobStatus.RETRY_WAIT);

    f.kit.runCommand(RequestCommand.Timer.RETRY_DUE);
    f.grant(f.expectAcquire());

    f.awaitStatus(JobStatus.FAILED);
    assertThat(f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().error())
        .isEqualTo("gave up after 2 attempts; last error: still throttled");
  }

  @Test
  void transitionsAndTheWaitsTheyEndAreReportedFromTheEventsTimesButNotAgainOnRecovery() {
    Fixture f = new Fixture();
    var answer = new CompletableFuture<InferenceClient.InferenceResponse>();
    f.model.then(() -> answer);
    f.blobs.put(IMAGE, new byte[] {1});
    f.submit(SPEC);
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.kit.getState())
        .isInstanceOfSatisfying(RequestState.WaitingForInputs.class,
            w -> assertThat(w.missing()).containsExactly("mask")));

    f.clock.advance(Duration.ofSeconds(5));
    f.blobs.put(MASK, new byte[] {2});
    var acquire = f.expectAcquire(); // queued 5 s after its creation
    f.clock.advance(Duration.ofSeconds(30));
    f.grant(acquire);
    f.awaitStatus(JobStatus.RUNNING);
    f.clock.advance(Duration.ofSeconds(12));
    answer.complete(new InferenceClient.InferenceResponse("ply\n".getBytes(StandardCharsets.US_ASCII),
        "application/octet-stream"));
    f.awaitStatus(JobStatus.SUCCEEDED);

    assertThat(f.metrics.reported).containsExactly(
        "transition gen3d WAITING_FOR_INPUTS",
        "transition gen3d QUEUED",
        "transition gen3d RUNNING",
        "queueWait gen3d PT30S",
        "transition gen3d SUCCEEDED",
        "finished gen3d SUCCEEDED PT47S");
    assertThat(f.metrics.journalWrites).hasValue(5); // InputsMissing is written but changes no status

    f.kit.restart();

    assertThat(f.status()).isEqualTo(JobStatus.SUCCEEDED);
    assertThat(f.metrics.reported).hasSize(6);
    assertThat(f.metrics.journalWrites).hasValue(5);
  }
}
