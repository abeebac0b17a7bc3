package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import warmgate.blob.BlobInfo;
import warmgate.blob.BlobRefusedException;
import warmgate.config.WebhookSettings;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.job.ObjectRef;
import warmgate.request.RequestCommand.CallbackAnswered;
import warmgate.request.RequestCommand.ErrorReportRefused;
import warmgate.request.RequestCommand.ErrorReportWritten;
import warmgate.request.RequestState.Callback;
import warmgate.request.RequestState.Failed;
import warmgate.request.RequestState.JobCore;

// No actors: the side duties' bookkeeping as plain objects.
class DutyTest {
  private static final Instant AT = Instant.parse("2026-11-23T10:15:30Z");
  private static final ObjectRef OUTPUT = new ObjectRef("gen3d", "users/alice/output/cat.ply");
  private static final JobSpec SPEC = new JobSpec("gen3d", "alice", Map.of("image", OUTPUT), OUTPUT, null, null, "t",
      false);
  private static final JobCore CORE = new JobCore("job-1", SPEC, 1, 0, 2, AT, AT, null);

  @Test
  void aDutyRunsOneTryAtATime() {
    Duty duty = new Duty();
    assertThat(duty.start()).isTrue();
    assertThat(duty.start()).as("a second try while one is under way").isFalse();
    duty.answered();
    assertThat(duty.underWay()).isFalse();
    assertThat(duty.start()).isTrue();
  }

  @Test
  void anErrorReportIsWrittenOnlyWhileOwedAndItsFailuresDoubleTheWait() {
    ErrorReportDuty report = new ErrorReportDuty(Duration.ofSeconds(2), Duration.ofMinutes(1), () -> 1.0);
    assertThat(report.start(new Failed(CORE, "bad", true, null))).as("already written").isFalse();
    assertThat(report.start(new Failed(CORE, "bad", false, "refused"))).as("given up").isFalse();
    Failed owing = new Failed(CORE, "bad", false, null);
    assertThat(report.start(owing)).isTrue();
    assertThat(report.start(owing)).as("a write is under way").isFalse();
    Duration first = report.failed();
    assertThat(report.start(owing)).isTrue();
    Duration second = report.failed();
    assertThat(report.failures()).isEqualTo(2);
    assertThat(second).isGreaterThan(first);
    report.ended();
    assertThat(report.failures()).isZero();
  }

  @Test
  void aRefusedErrorReportIsGivenUpAndAnyOtherFailureTriedAgain() {
    assertThat(ErrorReportDuty.outcome(null, new BlobRefusedException(OUTPUT,
        "NoSuchBucket"))).isInstanceOf(ErrorReportRefused.class);
    assertThat(ErrorReportDuty.outcome(null, new RuntimeException("503")))
        .isInstanceOfSatisfying(ErrorReportWritten.class, w -> assertThat(w.failure()).contains("503"));
    assertThat(ErrorReportDuty.outcome(new BlobInfo(OUTPUT, 3, "etag", "application/json", Map.of()),
        null)).isEqualTo(new ErrorReportWritten("etag", null));
  }

  @Test
  void aCallbackIsDeliveredOnlyWhenOwedAndGivenUpAfterMaxAttempts() {
    WebhookSettings policy = new WebhookSettings("s3cret", List.of("hooks.example.com"), false, Duration.ofSeconds(5),
        3,
        Duration.ofMillis(50), Duration.ofMillis(200));
    CallbackDuty callback = new CallbackDuty(policy, () -> 0.0);
    assertThat(callback.start(null)).isFalse();
    assertThat(callback.start(new Callback(JobStatus.SUCCEEDED, 0, null))).isTrue();
    assertThat(callback.start(new Callback(JobStatus.SUCCEEDED, 0, null))).as("a delivery is under way").isFalse();
    assertThat(callback.retryAt(1, AT)).isAfter(AT);
    assertThat(callback.retryAt(3, AT)).as("the last of max-attempts").isNull();
    assertThat(CallbackDuty.delivered(new CallbackAnswered(JobStatus.SUCCEEDED, 1, 204, null))).isTrue();
    assertThat(CallbackDuty.delivered(new CallbackAnswered(JobStatus.SUCCEEDED, 1, 503, null))).isFalse();
    assertThat(CallbackDuty.error(new CallbackAnswered(JobStatus.SUCCEEDED, 1, 503,
        null))).isEqualTo("the receiver answered HTTP 503");
    assertThat(CallbackDuty.webhookId(CORE, JobStatus.FAILED)).isEqualTo("job-1.2.failed");
  }
}
