package warmgate.service;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import warmgate.job.JobSpec;
import warmgate.request.Request;

/** {@link Jobs} backed by the sharded Request entities. */
public final class ShardedJobs implements Jobs {
  private final ClusterSharding sharding;
  private final Duration askTimeout;

  public ShardedJobs(ClusterSharding sharding, Duration askTimeout) {
    this.sharding = sharding;
    this.askTimeout = askTimeout;
  }

  @Override
  public CompletionStage<Request.Submitted> submit(String jobId, JobSpec spec) {
    return sharding.entityRefFor(Request.ENTITY_KEY, jobId).askWithStatus(replyTo -> new Request.Submit(spec, replyTo), askTimeout);
  }

  @Override
  public CompletionStage<Optional<Request.JobView>> find(String jobId) {
    return sharding.entityRefFor(Request.ENTITY_KEY, jobId)
        .<Request.JobLookup>ask(Request.Get::new, askTimeout)
        .thenApply(lookup -> Optional.ofNullable(lookup.job()));
  }

  @Override
  public CompletionStage<Optional<Request.JobView>> cancel(String jobId, String reason) {
    return Refused.fromStatusReply(sharding.entityRefFor(Request.ENTITY_KEY, jobId)
            .<Request.JobLookup>askWithStatus(replyTo -> new Request.Cancel(reason, replyTo), askTimeout))
        .thenApply(lookup -> Optional.ofNullable(lookup.job()));
  }
}
