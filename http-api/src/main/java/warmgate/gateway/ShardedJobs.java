package warmgate.gateway;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
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
    return ask(jobId, replyTo -> new Request.Cancel(reason, replyTo));
  }

  @Override
  public CompletionStage<Optional<Request.JobView>> retry(String jobId, String reason) {
    return ask(jobId, replyTo -> new Request.Retry(reason, replyTo));
  }

  @Override
  public CompletionStage<Optional<Request.JobView>> approve(String jobId, String reviewer) {
    return ask(jobId, replyTo -> new Request.Approve(reviewer, replyTo));
  }

  @Override
  public CompletionStage<Optional<Request.JobView>> reject(String jobId, String reviewer, String reason) {
    return ask(jobId, replyTo -> new Request.Reject(reviewer, reason, replyTo));
  }

  private CompletionStage<Optional<Request.JobView>> ask(
      String jobId, Function<ActorRef<StatusReply<Request.JobLookup>>, Request.Command> command) {
    return Refused.fromStatusReply(sharding.entityRefFor(Request.ENTITY_KEY, jobId).askWithStatus(command::apply, askTimeout))
        .thenApply(lookup -> Optional.ofNullable(lookup.job()));
  }
}
