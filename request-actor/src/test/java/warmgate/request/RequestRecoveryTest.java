package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import warmgate.job.JobStatus;
import warmgate.logging.CapturedLogs;
import warmgate.provider.InferenceException;
import warmgate.request.Request.AttemptFailed;
import warmgate.request.Request.AttemptStarted;
import warmgate.request.Request.InputsMissing;
import warmgate.request.Request.JobSubmitted;
import warmgate.request.RequestCommand.JobLookup;

// A job's restarts: its journal, what it resumes, its log lines; in-memory, as RequestTestBase.
class RequestRecoveryTest extends RequestTestBase {
  @Test
  void runningJobRecoveredAfterACrashFindsItsWrittenOutputAndSucceedsWithoutRunningAgain() {
    Fixture f = new Fixture();
    f.model.thenHang();
    f.submitAndGrant();
    f.awaitStatus(JobStatus.RUNNING);
    // The output landed, but the node died before the success was recorded.
    f.blobs.put(OUTPUT, "ply\n".getBytes(StandardCharsets.US_ASCII), "application/octet-stream",
        Map.of(InferenceStep.JOB_ID_METADATA, f.jobId, InferenceStep.ATTEMPT_METADATA,
            "1")).toCompletableFuture().join();

    f.kit.restart();

    f.awaitStatus(JobStatus.SUCCEEDED);
    assertThat(f.model.calls.get()).isEqualTo(1);
  }

  @Test
  void runningJobRecoveredWithoutOutputCountsAnInterruptedAttemptAndRetries() {
    Fixture f = new Fixture();
    f.model.thenHang();
    f.submitAndGrant();
    f.awaitStatus(JobStatus.RUNNING);
    f.blobs.put(OUTPUT, "someone else's file".getBytes(StandardCharsets.UTF_8)); // not stamped with our job id

    f.kit.restart();

    f.awaitStatus(JobStatus.RETRY_WAIT);
    assertThat(((RequestState.RetryWait) f.kit.getState()).error()).contains("attempt 1 was interrupted");
    f.kit.runCommand(RequestCommand.Timer.RETRY_DUE);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);
    assertThat(f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().attempts()).isEqualTo(2);
  }

  @Test
  void everyLineAJobLogsCarriesItsIdAndEndpointInTheMdcAlsoAfterRecovery() {
    try (CapturedLogs logs = CapturedLogs.of(RequestEntity.class.getName())) {
      Fixture f = new Fixture();
      f.model.thenHang();
      f.submitAndGrant();
      f.awaitStatus(JobStatus.RUNNING);

      f.kit.restart();

      f.endpointIgnoringProbe().awaitAssert(WAIT,
          () -> assertThat(logs.containing("was running attempt 1")).isNotEmpty());
      var lines = logs.containing("Job " + f.jobId + " ");
      assertThat(lines).extracting(e -> e.getFormattedMessage())
          .anyMatch(m -> m.contains("submitted for endpoint"))
          .anyMatch(m -> m.contains("runs attempt 1"))
          .anyMatch(m -> m.contains("was running attempt 1"));
      assertThat(lines).allSatisfy(e -> assertThat(e.getMDCPropertyMap())
          .containsEntry("jobId", f.jobId)
          .containsEntry("endpoint", "gen3d"));
    }
  }

  @Test
  void eventsTellTheWholeStoryInOrder() {
    Fixture f = new Fixture();
    f.model.thenFail(InferenceException.Kind.TRANSIENT, "timeout");
    f.blobs.put(IMAGE, new byte[] {1});
    f.submit(SPEC);
    f.awaitStatus(JobStatus.WAITING_FOR_INPUTS);
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> {
      assertThat(f.kit.getState()).isInstanceOfSatisfying(RequestState.WaitingForInputs.class,
          w -> assertThat(w.missing()).containsExactly("mask"));
      return null;
    });
    f.blobs.put(MASK, new byte[] {2});
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.RETRY_WAIT);
    f.kit.runCommand(RequestCommand.Timer.RETRY_DUE);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);

    List<Class<?>> types = f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId).stream()
        .<Class<?>>map(Object::getClass).toList();

    assertThat(types).containsExactly(JobSubmitted.class, InputsMissing.class, Request.JobQueued.class,
        AttemptStarted.class,
        AttemptFailed.class, Request.JobQueued.class, AttemptStarted.class, Request.JobSucceeded.class);
    assertThat(f.kit.restart().state()).isInstanceOf(RequestState.Succeeded.class);
  }

  @Test
  void replayOfAJobsStoredEventsGivesTheStateTheEntityHolds() {
    Fixture f = new Fixture();
    f.model.thenFail(InferenceException.Kind.TRANSIENT, "timeout");
    f.submitAndGrant();
    f.awaitStatus(JobStatus.RETRY_WAIT);
    f.kit.runCommand(RequestCommand.Timer.RETRY_DUE);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);

    List<Request.Event> stored = f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId).stream()
        .map(Request.Event.class::cast).toList();

    assertThat(RequestState.replay(stored)).isEqualTo(f.kit.getState());
    assertThat(RequestState.replay(stored.subList(0, 3))).isInstanceOfSatisfying(RequestState.Running.class,
        running -> {
      assertThat(running.attempt()).isEqualTo(1);
      assertThat(running.core().updatedAt()).isEqualTo(stored.get(2).at());
    });
    assertThat(RequestState.replay(List.of())).isEqualTo(new RequestState.Blank());
  }

  @Test
  void aWakeOnlyStartsTheJobWhichThenResumesWhereItWas() {
    Fixture f = new Fixture();
    f.submit(SPEC); // no inputs yet: the job waits for them

    f.kit.restart();
    var woken = f.kit.<org.apache.pekko.Done>runCommand(RequestCommand.Wake::new);
    f.uploadInputs();

    assertThat(woken.reply()).as("answered once recovered").isEqualTo(org.apache.pekko.Done.getInstance());
    assertThat(woken.hasNoEvents()).isTrue();
    assertThat(woken.state()).isInstanceOf(RequestState.WaitingForInputs.class);
    assertThat(f.expectAcquire().jobId()).as("the woken job kept looking for its inputs").isEqualTo(f.jobId);
  }

  @Test
  void failedJobStaysFailedAcrossRestart() {
    Fixture f = new Fixture();
    f.model.thenFail(InferenceException.Kind.PERMANENT, "bad input");
    f.submitAndGrant();
    f.awaitStatus(JobStatus.FAILED);

    assertThat(f.kit.restart().state()).isInstanceOfSatisfying(RequestState.Failed.class,
        failed -> assertThat(failed.error()).contains("bad input"));
    assertThat(f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId))
        .last().isInstanceOf(Request.ErrorReported.class);
  }
}
