package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.job.ObjectRef;
import warmgate.provider.InferenceClient;
import warmgate.provider.InferenceException;
import warmgate.request.Request.AttemptStarted;
import warmgate.request.Request.InputsMissing;
import warmgate.request.Request.JobFailed;
import warmgate.request.Request.JobSubmitted;
import warmgate.request.RequestCommand.JobLookup;
import warmgate.request.RequestCommand.JobView;

// References that can never name an object, in new jobs and old journals (golden files); in-memory.
class RequestReferencesTest extends RequestTestBase {
  @Test
  void aJobWhoseInputCanNeverExistFailsAtOnceNamingTheInputAndTheRule() {
    Map<String, String> rules = Map.of(
        "users/alice/input/../cat_mask.png", "key-no-dot-segments",
        "users/alice/input/cat\0mask.png", "key-no-control-characters",
        "users/alice/input/cat\nmask.png", "key-no-control-characters",
        "users/alice/input/" + "m".repeat(1020) + ".png", "key-max-1024-bytes");
    rules.forEach((key, rule) -> {
      Fixture f = new Fixture();
      f.blobs.put(IMAGE, new byte[] {1});

      f.submit(specWith(new ObjectRef("gen3d", key), OUTPUT));

      f.awaitStatus(JobStatus.FAILED); // no clock advance: it did not wait out inputs-timeout
      String error = ((RequestState.Failed) f.kit.getState()).error();
      assertThat(error).as(rule).contains("input mask", "can never exist", "(rule: " + rule + ")");
      assertThat(f.events()).as(rule).noneMatch(InputsMissing.class::isInstance);
      f.awaitReported(); // the output is fine, so is its error report
      f.endpoint.expectNoMessage(Duration.ofMillis(100));
    });
  }

  @Test
  void anInputTheStoreRefusesFailsTheJobAtOnce() {
    Fixture f = new Fixture();
    f.blobs.failWith(new warmgate.blob.BlobRefusedException(IMAGE, "S3 answered 400 InvalidBucketName"));

    f.submit(SPEC);

    f.awaitStatus(JobStatus.FAILED);
    assertThat(((RequestState.Failed) f.kit.getState()).error()).contains("can never exist", "InvalidBucketName");
    f.awaitReportAbandoned(); // the same store refuses the report too
    assertAtRest(f);
  }

  @Test
  void aJobWhoseOutputCanNeverBeWrittenFailsBeforeItsModelRunsAndUsesNoAttempt() {
    Fixture f = new Fixture();
    f.uploadInputs();
    ObjectRef output = new ObjectRef("gen3d", "users/alice/output/cat\0.ply");

    f.submit(specWith(MASK, output));

    f.awaitStatus(JobStatus.FAILED);
    JobView job = f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job();
    assertThat(job.error()).contains("output", "can never be written", "(rule: key-no-control-characters)");
    assertThat(job.attempts()).isZero();
    assertThat(f.model.calls.get()).isZero();
    f.endpoint.expectNoMessage(Duration.ofMillis(100)); // it never asked for a slot
    assertThat(f.awaitReportAbandoned().reportAbandoned()).contains("(rule: key-no-control-characters)");
    assertThat(f.putCalls.get()).as("neither output nor report was sent to the store").isZero();
    assertAtRest(f);
  }

  @Test
  void anOutputTheStoreRefusesFailsTheJobAfterOneModelRunInsteadOfRetrying() {
    Fixture f = new Fixture(Options.DEFAULTS.maxAttempts(5));
    var answer = new CompletableFuture<InferenceClient.InferenceResponse>();
    f.model.then(() -> answer);
    f.submitAndGrant();
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.model.calls.get()).isEqualTo(1));
    f.blobs.failWith(new warmgate.blob.BlobRefusedException(OUTPUT, "S3 answered 404 NoSuchBucket"));

    answer.complete(new InferenceClient.InferenceResponse(new byte[] {1}, "application/octet-stream"));

    f.awaitStatus(JobStatus.FAILED);
    assertThat(((RequestState.Failed) f.kit.getState()).error()).contains("failed permanently", "NoSuchBucket");
    assertThat(f.model.calls.get()).as("not run again for an output that can never be written").isEqualTo(1);
    f.awaitReportAbandoned();
  }

  @Test
  void anErrorReportTheStoreRefusesIsGivenUpOnceAndTheJobComesToRest() {
    Fixture f = new Fixture();
    var answer = new CompletableFuture<InferenceClient.InferenceResponse>();
    f.model.then(() -> answer);
    f.submitAndGrant();
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.model.calls.get()).isEqualTo(1));
    f.blobs.failWith(new warmgate.blob.BlobRefusedException(SPEC.errorOutput(), "S3 answered 404 NoSuchBucket"));

    answer.completeExceptionally(InferenceException.permanent("ModelError: bad input"));

    RequestState.Failed failed = f.awaitReportAbandoned();
    assertThat(failed.error()).contains("bad input");
    assertThat(failed.reportAbandoned()).contains("error report", "NoSuchBucket");
    assertThat(f.events()).last().isInstanceOf(Request.ErrorReportAbandoned.class);
    assertThat(f.putCalls.get()).as("one write, not retried").isEqualTo(1);
    assertAtRest(f);
    assertThat(f.kit.restart().state()).isEqualTo(failed);
    assertAtRest(f);
  }

  @Test
  void aFailedJobWithAnAbandonedReportCanStillBeRedriven() {
    Fixture f = new Fixture();
    f.model.thenFail(InferenceException.Kind.PERMANENT, "ModelError: bad input");
    f.uploadInputs();
    // 1,020 bytes: the output may be written, but its {base}_error.json would be 1,027.
    ObjectRef output = new ObjectRef("gen3d", "users/alice/output/" + "o".repeat(997) + ".ply");
    f.submit(new JobSpec("gen3d", "alice", Map.of("image", IMAGE, "mask", MASK), output, null, null, IMAGE.toString(),
        false));
    f.grant(f.expectAcquire());
    assertThat(f.awaitReportAbandoned().reportAbandoned()).contains("(rule: key-max-1024-bytes)");

    var result = f.kit.<StatusReply<JobLookup>>runCommand(replyTo -> new RequestCommand.Retry("model fixed", replyTo));

    assertThat(result.reply().getValue().job().status()).isEqualTo(JobStatus.WAITING_FOR_INPUTS);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);
  }

  // ---- Journals written before references were checked (golden files)

  private static final java.time.Instant THEN = java.time.Instant.parse("2026-11-20T08:00:00Z");

  /** Recovers {@code f}'s job from the journal stored under {@code name}, which must read back as {@code events}. */
  private RequestState recoverFrom(Fixture f, String name, List<Request.Event> events) {
    List<Request.Event> stored = GoldenJournal.read(testKit.system(), name, events);
    f.kit.persistenceTestKit().persistForRecovery(persistenceIdOf(f.jobId), List.copyOf(stored));
    return f.kit.restart().state();
  }

  private Fixture oldJobFixture(String jobId) {
    return new Fixture(Options.DEFAULTS.jobId(jobId));
  }

  @Test
  void aJournaledJobWaitingForAnInputWithDotDotSegmentsRecoversIntoFailedWithItsReportAbandoned() {
    Fixture f = oldJobFixture("old-dot-segments");
    ObjectRef image = new ObjectRef("gen3d", "users/alice/../carol/input/cat_image.png");
    ObjectRef mask = new ObjectRef("gen3d", "users/alice/../carol/input/cat_mask.png");
    ObjectRef output = new ObjectRef("gen3d", "users/alice/../carol/output/cat.ply");
    JobSpec spec = new JobSpec("gen3d", "alice", Map.of("image", image, "mask", mask), output, null, null,
        image.toString(), false);

    recoverFrom(f, "input-dot-segments", List.of(
        new JobSubmitted(f.jobId, spec, THEN.plusSeconds(600), THEN),
        new InputsMissing(List.of("mask"), THEN.plusSeconds(2))));

    RequestState.Failed failed = f.awaitReportAbandoned();
    assertThat(failed.error()).contains("input image", "can never exist", "(rule: key-no-dot-segments)");
    assertThat(failed.reportAbandoned()).contains("(rule: key-no-dot-segments)");
    assertThat(f.events()).extracting(e -> e.getClass().getSimpleName())
        .containsExactly("JobSubmitted", "InputsMissing", "JobFailed", "ErrorReportAbandoned");
    f.endpoint.expectNoMessage(Duration.ofMillis(100));
    assertAtRest(f);
  }

  @Test
  void aJournaledQueuedJobWhoseOutputHoldsANulFailsWithoutInvokingTheModel() {
    Fixture f = oldJobFixture("old-nul-output");
    f.uploadInputs();
    ObjectRef output = new ObjectRef("gen3d", "users/alice/output/cat\0.ply");

    RequestState recovered = recoverFrom(f, "output-nul", List.of(
        new JobSubmitted(f.jobId, specWith(MASK, output), THEN.plusSeconds(600), THEN),
        new Request.JobQueued(THEN.plusSeconds(1))));
    assertThat(recovered).isInstanceOf(RequestState.Queued.class);
    f.grant(f.expectAcquire()); // queued before the check at the inputs existed: the run refuses it

    RequestState.Failed failed = f.awaitReportAbandoned();
    assertThat(failed.error()).contains("failed permanently", "output", "can never be written",
        "(rule: key-no-control-characters)");
    assertThat(f.model.calls.get()).isZero();
    assertThat(f.putCalls.get()).isZero();
    assertThat(f.expectRelease().jobId()).as("the slot is returned").isEqualTo(f.jobId);
    assertAtRest(f);
  }

  @Test
  void aJournaledFailedJobWhoseErrorReportCanNeverBeWrittenGivesItUpOnRecovery() {
    Fixture f = oldJobFixture("old-failed-unreportable");
    f.uploadInputs();
    ObjectRef output = new ObjectRef("gen3d", "users/alice/../output/cat.ply");

    RequestState recovered = recoverFrom(f, "failed-report-unwritable", List.of(
        new JobSubmitted(f.jobId, specWith(MASK, output), THEN.plusSeconds(600), THEN),
        new Request.JobQueued(THEN.plusSeconds(1)),
        new AttemptStarted(1, "lease-1", THEN.plusSeconds(2)),
        new JobFailed("attempt 1 failed permanently: ModelError: bad input", THEN.plusSeconds(3))));
    assertThat(recovered).isInstanceOfSatisfying(RequestState.Failed.class, r -> assertThat(r.owesReport()).isTrue());

    RequestState.Failed failed = f.awaitReportAbandoned();
    assertThat(failed.error()).isEqualTo("attempt 1 failed permanently: ModelError: bad input");
    assertThat(failed.reportAbandoned()).contains("error report", "(rule: key-no-dot-segments)");
    assertThat(f.putCalls.get()).isZero();
    assertAtRest(f);
    assertThat(f.kit.restart().state()).as("recovered again, it has nothing left to do").isEqualTo(failed);
    assertAtRest(f);
  }
}
