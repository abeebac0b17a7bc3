package warmgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointCommand;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.job.ObjectRef;
import warmgate.request.RequestCommand;

// No actors, no I/O: admission against a scripted queue depth.
class AdmittingJobsTest {
  private static final JobSpec SPEC = new JobSpec("gen3d", "alice", Map.of("image",
      ObjectRef.parse("s3://gen3d/in/x.png")),
      ObjectRef.parse("s3://gen3d/out/x.ply"), null, null, "http", false);

  /** Reports {@code queued} for every endpoint, or fails when it is negative; counts the asks. */
  static final class ScriptedEndpoints implements EndpointStates {
    volatile int queued;
    volatile int overflow;
    volatile java.util.List<EndpointCommand.OwnerLoad> owners = java.util.List.of();
    final AtomicInteger asks = new AtomicInteger();

    @Override
    public Set<String> names() {
      return Set.of("gen3d");
    }

    @Override
    public CompletionStage<EndpointCommand.View> get(String name) {
      asks.incrementAndGet();
      return queued < 0 ? CompletableFuture.failedFuture(new TimeoutException("Ask timed out"))
          : CompletableFuture.completedFuture(new EndpointCommand.View(name, EndpointLifecycle.Phase.WARM, queued, 2,
              Instant.EPOCH, 0, null, overflow, 0, null, owners));
    }

    @Override
    public CompletionStage<EndpointCommand.View> start(String name) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletionStage<EndpointCommand.View> stop(String name) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void providerReported(String name, String status) {}
  }

  /** Accepts every job, counting them. */
  static final class CountingJobs implements Jobs {
    final AtomicInteger submitted = new AtomicInteger();

    @Override
    public CompletionStage<RequestCommand.Submitted> submit(String jobId, JobSpec spec) {
      submitted.incrementAndGet();
      var view = new RequestCommand.JobView(jobId, JobStatus.WAITING_FOR_INPUTS, spec.endpoint(), spec.owner(), 0,
          Instant.EPOCH,
          Instant.EPOCH, Map.of(), spec.output().toString(), null, null, spec.priority());
      return CompletableFuture.completedFuture(new RequestCommand.Submitted(view, false, true));
    }

    @Override
    public CompletionStage<Optional<RequestCommand.JobView>> find(String jobId) {
      return CompletableFuture.completedFuture(Optional.empty());
    }

    @Override
    public CompletionStage<Optional<RequestCommand.JobView>> cancel(String jobId, String reason) {
      return find(jobId);
    }

    @Override
    public CompletionStage<Optional<RequestCommand.JobView>> retry(String jobId, String reason) {
      return find(jobId);
    }

    @Override
    public CompletionStage<Optional<RequestCommand.JobView>> approve(String jobId, String reviewer) {
      return find(jobId);
    }

    @Override
    public CompletionStage<Optional<RequestCommand.JobView>> reject(String jobId, String reviewer, String reason) {
      return find(jobId);
    }
  }

  private final ScriptedEndpoints endpoints = new ScriptedEndpoints();
  private final CountingJobs delegate = new CountingJobs();

  private AdmittingJobs admitting(Duration freshness) {
    return new AdmittingJobs(delegate, endpoints, name -> 100, (name, owner) -> "alice".equals(owner) ? 10 : 50,
        freshness, Duration.ofSeconds(5));
  }

  private static JobSpec of(String owner) {
    return new JobSpec("gen3d", owner, SPEC.inputs(), SPEC.output(), null, null, "http", false);
  }

  @Test
  void anOwnerAtItsQueueQuotaIsRefusedWhileOthersAreAdmitted() {
    endpoints.queued = 20;
    endpoints.owners = java.util.List.of(new EndpointCommand.OwnerLoad("alice", 10, 2),
        new EndpointCommand.OwnerLoad("bob", 9, 0), new EndpointCommand.OwnerLoad("", 1, 0));
    AdmittingJobs admitting = admitting(Duration.ZERO);

    assertThatThrownBy(() -> admitting.submit("job-a", of("alice")).toCompletableFuture().join())
        .hasCauseInstanceOf(EndpointBusy.class)
        .cause().satisfies(e -> {
          EndpointBusy busy = (EndpointBusy) e;
          assertThat(busy.code()).isEqualTo("owner_quota_exceeded");
          assertThat(busy.getMessage()).contains("owner alice has 10 job(s) waiting at endpoint gen3d")
              .contains("max-queued");
          assertThat(busy.retryAfterSeconds()).isEqualTo(5);
        });
    admitting.submit("job-b", of("bob")).toCompletableFuture().join();
    admitting.submit("job-c", of("carol")).toCompletableFuture().join();
    admitting.submit("job-n", of(null)).toCompletableFuture().join();
    assertThat(delegate.submitted).hasValue(3);
  }

  @Test
  void jobIsAdmittedWhileTheQueueHasRoom() {
    endpoints.queued = 99;

    admitting(Duration.ZERO).submit("job-1", SPEC).toCompletableFuture().join();

    assertThat(delegate.submitted).hasValue(1);
  }

  @Test
  void jobIsRefusedWithRetryAfterOnceTheQueueIsFullAndNothingIsSubmitted() {
    endpoints.queued = 100;

    assertThatThrownBy(() -> admitting(Duration.ZERO).submit("job-1", SPEC).toCompletableFuture().join())
        .isInstanceOf(CompletionException.class)
        .cause().isInstanceOfSatisfying(EndpointBusy.class, busy -> {
          assertThat(busy.retryAfterSeconds()).isEqualTo(5);
          assertThat(busy.getMessage()).contains("gen3d", "100");
        });
    assertThat(delegate.submitted).hasValue(0);
  }

  @Test
  void jobsTheFullQueueTurnedAwayCountTowardsTheLimit() {
    endpoints.queued = 60;
    endpoints.overflow = 40;

    assertThatThrownBy(() -> admitting(Duration.ZERO).submit("job-1", SPEC).toCompletableFuture().join())
        .isInstanceOf(CompletionException.class)
        .cause().isInstanceOfSatisfying(EndpointBusy.class,
            busy -> assertThat(busy.getMessage()).contains("100 job(s) waiting"));
    assertThat(delegate.submitted).hasValue(0);

    endpoints.overflow = 39;
    admitting(Duration.ZERO).submit("job-2", SPEC).toCompletableFuture().join();
    assertThat(delegate.submitted).hasValue(1);
  }

  @Test
  void aBurstWithinTheCheckIntervalAsksTheEndpointOnce() {
    endpoints.queued = 3;
    AdmittingJobs jobs = admitting(Duration.ofMinutes(1));

    for (int i = 0; i < 50; i++) {
      jobs.submit("job-" + i, SPEC).toCompletableFuture().join();
    }

    assertThat(endpoints.asks).hasValue(1);
    assertThat(delegate.submitted).hasValue(50);
  }

  @Test
  void anEndpointThatDoesNotAnswerDoesNotStopJobs() {
    endpoints.queued = -1;

    admitting(Duration.ZERO).submit("job-1", SPEC).toCompletableFuture().join();

    assertThat(delegate.submitted).hasValue(1);
  }
}
