package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import warmgate.Json;
import warmgate.job.JobStatus;
import warmgate.provider.InferenceClient;
import warmgate.provider.InferenceException;

// What a job owes after its end: the error report and the callback; in-memory, as RequestTestBase.
class RequestDutiesTest extends RequestTestBase {
  @Test
  void failedJobWritesItsErrorReportBesideTheOutput() throws Exception {
    Fixture f = new Fixture();
    f.model.thenFail(InferenceException.Kind.PERMANENT, "ModelError: the mask is empty");
    f.submitAndGrant();

    f.awaitReported();

    var report = Json.mapper().readTree(f.blobs.object(SPEC.errorOutput()).orElseThrow().content());
    assertThat(SPEC.errorOutput().key()).isEqualTo("users/alice/output/cat_error.json");
    assertThat(report.path("job").path("jobId").asText()).isEqualTo(f.jobId);
    assertThat(report.path("job").path("status").asText()).isEqualTo("FAILED");
    assertThat(report.path("job").path("error").asText()).contains("the mask is empty");
    assertThat(f.blobs.object(SPEC.errorOutput()).orElseThrow().info().metadata())
        .containsEntry(InferenceStep.JOB_ID_METADATA, f.jobId);
    assertThat(f.blobs.object(OUTPUT)).isEmpty();
  }

  @Test
  void errorReportIsWrittenOnceStorageIsBack() {
    Fixture f = new Fixture();
    var answer = new CompletableFuture<InferenceClient.InferenceResponse>();
    f.model.then(() -> answer);
    f.submitAndGrant();
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.model.calls.get()).isEqualTo(1));
    f.blobs.failWith(new IllegalStateException("S3 is unreachable"));

    answer.completeExceptionally(InferenceException.permanent("ModelError: bad input"));

    f.awaitStatus(JobStatus.FAILED);
    f.endpointIgnoringProbe().expectNoMessage(Duration.ofMillis(300));
    assertThat(((RequestState.Failed) f.kit.getState()).reported()).isFalse();
    f.blobs.failWith(null);
    f.awaitReported(); // the next try, backoff-min later
    assertThat(f.blobs.object(SPEC.errorOutput())).isPresent();
  }

  @Test
  void callbackReportsTheEndOnceWithAStableId() throws Exception {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(CALLED_BACK);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);

    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.webhooks.deliveries).hasSize(1));
    var delivery = f.webhooks.deliveries.peek();
    assertThat(delivery.url()).isEqualTo(CALLED_BACK.callbackUrl());
    assertThat(delivery.webhookId()).isEqualTo(f.jobId + ".0.succeeded");
    var body = Json.mapper().readTree(delivery.body());
    assertThat(body.path("type").asText()).isEqualTo("job.succeeded");
    assertThat(body.path("job").path("status").asText()).isEqualTo("SUCCEEDED");
    f.endpointIgnoringProbe().awaitAssert(WAIT,
        () -> assertThat(f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId))
        .last().isInstanceOf(Request.CallbackDelivered.class));
  }

  @Test
  void failingCallbackIsRetriedWithBackoffAndGivenUpWithoutTouchingTheJob() {
    Fixture f = new Fixture();
    f.webhooks.answers.addAll(List.of(503, 500, 502));
    f.uploadInputs();
    f.submit(CALLED_BACK);
    f.grant(f.expectAcquire());

    f.endpointIgnoringProbe().awaitAssert(WAIT,
        () -> assertThat(f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId))
        .filteredOn(Request.CallbackFailed.class::isInstance).hasSize(3));
    var last = (Request.CallbackFailed) f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId).get(
        f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId).size() - 1);
    assertThat(last.retryAt()).as("given up after max-attempts").isNull();
    assertThat(last.error()).contains("HTTP 502");
    assertThat(f.webhooks.deliveries).hasSize(3).extracting(RecordingWebhooks.Delivery::webhookId).containsOnly(f.jobId
        + ".0.succeeded");
    assertThat(f.status()).isEqualTo(JobStatus.SUCCEEDED);
    assertThat(f.kit.getState()).isInstanceOfSatisfying(RequestState.Succeeded.class,
        s -> assertThat(s.core().callback()).isNull());
  }

  @Test
  void callbackStillOwedBeforeACrashIsDeliveredAfterRecovery() {
    Fixture f = new Fixture();
    f.webhooks.answers.add(RecordingWebhooks.HANG);
    f.uploadInputs();
    f.submit(CALLED_BACK);
    f.grant(f.expectAcquire());
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.webhooks.deliveries).hasSize(1));

    f.kit.restart(); // the node died while the first delivery was on its way

    f.endpointIgnoringProbe().awaitAssert(WAIT,
        () -> assertThat(f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId))
        .last().isInstanceOf(Request.CallbackDelivered.class));
    assertThat(f.webhooks.deliveries).hasSize(2);
  }
}
