package warmgate.gateway;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToIntBiFunction;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.endpoint.EndpointCommand;
import warmgate.job.JobSpec;
import warmgate.request.RequestCommand;

/**
 * {@link Jobs} that turns new work away with {@link EndpointBusy} while the job's endpoint already holds
 * {@code max-queued} jobs waiting for a slot (in its queue, or turned away by the full queue and asking again), or
 * while the job's owner has its own {@code max-queued} jobs waiting there. The queue depths are asked of the
 * endpoint's lifecycle actor at most
 * once per {@code freshness} and shared by every submission in between, so a burst costs one ask, not one per
 * job. When the endpoint does not answer, the job is admitted: its journal is the real buffer, and refusing
 * work because a count could not be read would turn a slow node into an outage.
 */
public final class AdmittingJobs implements Jobs {
  private static final Logger log = LoggerFactory.getLogger(AdmittingJobs.class);

  private final Jobs delegate;
  private final EndpointStates endpoints;
  private final ToIntFunction<String> maxQueued;
  private final ToIntBiFunction<String, String> ownerMaxQueued;
  private final long freshnessNanos;
  private final long retryAfterSeconds;
  private final Map<String, Sample> samples = new ConcurrentHashMap<>();

  private record Sample(long atNanos, CompletableFuture<Optional<EndpointCommand.View>> view) {}

  /**
   * @param maxQueued an endpoint's {@code max-queued}, by name
   * @param ownerMaxQueued an owner's {@code max-queued} at an endpoint, by endpoint and owner (null: no owner)
   */
  public AdmittingJobs(Jobs delegate, EndpointStates endpoints, ToIntFunction<String> maxQueued,
      ToIntBiFunction<String, String> ownerMaxQueued, Duration freshness, Duration retryAfter) {
    this.delegate = delegate;
    this.endpoints = endpoints;
    this.maxQueued = maxQueued;
    this.ownerMaxQueued = ownerMaxQueued;
    this.freshnessNanos = freshness.toNanos();
    this.retryAfterSeconds = Math.max(1, retryAfter.toSeconds());
  }

  @Override
  public CompletionStage<RequestCommand.Submitted> submit(String jobId, JobSpec spec) {
    String endpoint = spec.endpoint();
    return load(endpoint).thenCompose(view -> {
      int limit = maxQueued.applyAsInt(endpoint);
      // Jobs the full queue turned away wait all the same, so they count: else each freed slot would let a new
      // burst in while the turned-away ones still wait, and the backlog would grow with the overload's length.
      int waiting = view.map(v -> v.queued() + v.overflow()).orElse(0);
      if (waiting >= limit) {
        log.debug("Refusing job {}: endpoint {} has {} waiting (max-queued {})", jobId, endpoint, waiting, limit);
        return CompletableFuture.failedFuture(new EndpointBusy(endpoint, waiting, retryAfterSeconds));
      }
      int ownerWaiting = view.map(v -> v.queuedBy(spec.owner())).orElse(0);
      int ownerLimit = ownerMaxQueued.applyAsInt(endpoint, spec.owner());
      if (ownerWaiting >= ownerLimit) {
        log.debug("Refusing job {}: owner {} has {} waiting at endpoint {} (max-queued {})", jobId, spec.owner(),
            ownerWaiting, endpoint, ownerLimit);
        return CompletableFuture.failedFuture(EndpointBusy.ownerQuota(endpoint, spec.owner(), ownerWaiting,
            retryAfterSeconds));
      }
      return delegate.submit(jobId, spec);
    });
  }

  /** The endpoint's last known view, at most {@code freshness} old; empty when it did not answer. */
  private CompletableFuture<Optional<EndpointCommand.View>> load(String endpoint) {
    long now = System.nanoTime();
    Sample sample = samples.compute(endpoint, (name, old) -> old != null && now - old.atNanos() < freshnessNanos
        ? old
        : new Sample(now, endpoints.get(name).toCompletableFuture()
            .thenApply(Optional::of)
            .exceptionally(failure -> {
              log.debug("Endpoint {} did not report its queue; admitting", name, failure);
              return Optional.empty();
            })));
    return sample.view();
  }

  @Override
  public CompletionStage<Optional<RequestCommand.JobView>> find(String jobId) {
    return delegate.find(jobId);
  }

  @Override
  public CompletionStage<Optional<RequestCommand.JobView>> cancel(String jobId, String reason) {
    return delegate.cancel(jobId, reason);
  }

  @Override
  public CompletionStage<Optional<RequestCommand.JobView>> retry(String jobId, String reason) {
    return delegate.retry(jobId, reason);
  }

  @Override
  public CompletionStage<Optional<RequestCommand.JobView>> approve(String jobId, String reviewer) {
    return delegate.approve(jobId, reviewer);
  }

  @Override
  public CompletionStage<Optional<RequestCommand.JobView>> reject(String jobId, String reviewer, String reason) {
    return delegate.reject(jobId, reviewer, reason);
  }
}
