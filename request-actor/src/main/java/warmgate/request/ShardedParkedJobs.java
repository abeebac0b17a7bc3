package warmgate.request;

import java.util.function.Consumer;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.endpoint.ParkedJobs;

/**
 * Reaches parked jobs through sharding, which starts a job's actor wherever its shard lives; the job recovers as
 * QUEUED and takes the grant. Recalling an endpoint's parked jobs is the read side's to do (it knows which jobs
 * the journal holds queued), hence {@code recall}.
 */
public final class ShardedParkedJobs implements ParkedJobs {
  private final ClusterSharding sharding;
  private final Consumer<String> recall;

  public ShardedParkedJobs(ClusterSharding sharding, Consumer<String> recall) {
    this.sharding = sharding;
    this.recall = recall;
  }

  @Override
  public void deliver(String jobId, EndpointLifecycle.SlotReply reply) {
    sharding.entityRefFor(RequestEntity.ENTITY_KEY, jobId).tell(RequestCommand.slotReply(reply));
  }

  @Override
  public void recall(String endpoint) {
    recall.accept(endpoint);
  }
}
