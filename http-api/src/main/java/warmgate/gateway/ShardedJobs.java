package warmgate.gateway;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
import warmgate.job.JobSpec;
import warmgate.request.RequestCommand;
import warmgate.request.RequestEntity;

/** {@link Jobs} backed by the sharded Request entities. */
public final class ShardedJobs implements Jobs {
  private final ClusterSharding sharding;
  private final Duration askTimeout;

  public ShardedJobs(ClusterSharding sharding, Duration askTimeout) {
    this.sharding = sharding;
    this.askTimeout = askTimeout;
  }

  @Override
  public CompletionStage<RequestCommand.Submitted> submit(String jobId, JobSpec spec) {
    return sharding.entityRefFor(RequestEntity.ENTITY_KEY,
        jobId).askWithStatus(replyTo -> new RequestCommand.Submit(spec, replyTo), askTimeout);
  }

  @Override
  public CompletionStage<Optional<RequestCommand.JobView>> find(String jobId) {
    return sharding.entityRefFor(RequestEntity.ENTITY_KEY, jobId)
        .<RequestCommand.JobLookup>ask(RequestCommand.Get::new, askTimeout)
        .thenApply(lookup -> Optional.ofNullable(lookup.job()));
  }

  @Override
  public CompletionStage<Optional<RequestCommand.JobView>> cancel(String jobId, String reason) {
    return ask(jobId, replyTo -> new RequestCommand.Cancel(reason, replyTo));
  }

  @Override
  public CompletionStage<Optional<RequestCommand.JobView>> retry(String jobId, String reason) {
    return ask(jobId, replyTo -> new RequestCommand.Retry(reason, replyTo));
  }

  @Override
  public CompletionStage<Optional<RequestCommand.JobView>> approve(String jobId, String reviewer) {
    return ask(jobId, replyTo -> new RequestCommand.Approve(reviewer, replyTo));
  }

  @Override
  public CompletionStage<Optional<RequestCommand.JobView>> reject(String jobId, String reviewer, String reason) {
    return ask(jobId, replyTo -> new RequestCommand.Reject(reviewer, reason, replyTo));
  }

  private CompletionStage<Optional<RequestCommand.JobView>> ask(
      String jobId, Function<ActorRef<StatusReply<RequestCommand.JobLookup>>, RequestCommand> command) {
    return Refused.fromStatusReply(sharding.entityRefFor(RequestEntity.ENTITY_KEY, jobId).askWithStatus(command::apply,
        askTimeout))
        .thenApply(lookup -> Optional.ofNullable(lookup.job()));
  }
}
