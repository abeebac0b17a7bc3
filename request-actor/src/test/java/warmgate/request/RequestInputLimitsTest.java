package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import warmgate.config.InputLimits;
import warmgate.job.JobStatus;
import warmgate.request.Request.AttemptStarted;
import warmgate.request.Request.JobFailed;
import warmgate.request.Request.JobQueued;
import warmgate.request.RequestCommand.JobLookup;

// Input limits checked from metadata, and an attempt that runs the JVM out of memory; in-memory, as RequestTestBase.
class RequestInputLimitsTest extends RequestTestBase {

  @Test
  void inputOverItsLimitFailsFromMetadataAtOnceWithoutAnAttemptOrARead() {
    Fixture f = new Fixture();
    f.limits = new InputLimits(10, 1_000); // "image-bytes" is 11 bytes, "mask-bytes" 10
    f.uploadInputs();
    f.submit(SPEC);

    f.awaitStatus(JobStatus.FAILED);

    var job = f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job();
    assertThat(job.attempts()).isZero();
    assertThat(job.error()).contains("input image " + IMAGE).contains("is 11 bytes")
        .contains("max-input-bytes of 10");
    assertThat(f.events()).noneMatch(e -> e instanceof JobQueued || e instanceof AttemptStarted)
        .anyMatch(e -> e instanceof JobFailed);
    assertThat(f.model.calls.get()).isZero();
    assertThat(f.blobs.reads.get()).as("contents read").isZero();
  }

  @Test
  void inputsOverTheJobsTotalFailTheSameWayNamingEachInput() {
    Fixture f = new Fixture();
    f.limits = new InputLimits(100, 20); // 11 + 10 bytes
    f.uploadInputs();
    f.submit(SPEC);

    f.awaitStatus(JobStatus.FAILED);

    var job = f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job();
    assertThat(job.attempts()).isZero();
    assertThat(job.error()).contains("image " + IMAGE + " (11 bytes)").contains("mask " + MASK + " (10 bytes)")
        .contains("21 bytes together").contains("max-job-input-bytes of 20");
    assertThat(f.model.calls.get()).isZero();
  }

  @Test
  void inputsWithinTheLimitsRunAndReachTheModelWhole() {
    Fixture f = new Fixture();
    f.limits = new InputLimits(11, 21);
    f.submitAndGrant();

    f.awaitStatus(JobStatus.SUCCEEDED);

    assertThat(f.model.lastBody).contains("\"image\":\"aW1hZ2UtYnl0ZXM=\"").contains("\"mask\":\"bWFzay1ieXRlcw==\"");
  }

  @Test
  void inputThatGrewPastItsLimitWhileQueuedFailsAtItsAttemptBeforeAnyRead() {
    Fixture f = new Fixture();
    f.limits = new InputLimits(11, 100);
    f.uploadInputs();
    f.submit(SPEC);
    var acquire = f.expectAcquire();
    f.blobs.put(IMAGE, "a much larger image".getBytes(StandardCharsets.UTF_8));
    int readsBefore = f.blobs.reads.get();

    f.grant(acquire);

    f.awaitStatus(JobStatus.FAILED);
    var job = f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job();
    assertThat(job.error()).contains("failed permanently").contains("input image").contains("is 19 bytes")
        .contains("max-input-bytes of 11");
    assertThat(f.model.calls.get()).isZero();
    assertThat(f.blobs.reads.get()).isEqualTo(readsBefore);
  }

  @Test
  void attemptThatRanOutOfMemoryIsNotTheJobsErrorAndTheJobResumesFromItsJournal() {
    Fixture f = new Fixture();
    f.model.then(() -> CompletableFuture.failedFuture(new OutOfMemoryError("Java heap space")));
    var grant = f.submitAndGrant();

    assertThat(f.expectRelease().leaseId()).isEqualTo(grant.leaseId());
    // Nothing journaled for it: the journal still says the attempt runs, as after a crash.
    endpointIgnoringProbeFor(f).awaitAssert(WAIT, () -> {
      assertThat(f.events().get(f.events().size() - 1)).isInstanceOf(AttemptStarted.class);
      return null;
    });
    assertThat(f.events()).noneMatch(e -> e.toString().contains("OutOfMemoryError"));

    f.kit.restart(); // what the shard does: passivate, then the Wake starts it again from its journal
    f.awaitStatus(JobStatus.RETRY_WAIT);
    var retry = (RequestState.RetryWait) f.kit.getState();
    assertThat(retry.error()).contains("attempt 1 was interrupted").doesNotContain("OutOfMemoryError");

    f.kit.runCommand(RequestCommand.Timer.RETRY_DUE);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);
    var job = f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job();
    assertThat(job.attempts()).isEqualTo(2);
    assertThat(f.events()).noneMatch(e -> e.toString().contains("OutOfMemoryError"));
  }

  private org.apache.pekko.actor.testkit.typed.javadsl.TestProbe<Object> endpointIgnoringProbeFor(Fixture f) {
    return f.endpointIgnoringProbe();
  }
}
