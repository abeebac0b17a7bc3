package warmgate.request;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import warmgate.endpoint.EndpointCommand;
import warmgate.endpoint.ParkedJobs;

/**
 * Reaches parked jobs through sharding, which starts a job's actor wherever its shard lives; the job recovers as
 * QUEUED and takes the grant. Recalling an endpoint's parked jobs is the read side's to do (it knows which jobs
 * the journal holds queued): {@code recall} publishes a {@link ParkedJobs.Recall} on this node's event stream, where
 * the read side listens once it has started, so the endpoints need not know the read side.
 */
public final class ShardedParkedJobs implements ParkedJobs {
  private final ActorSystem<?> system;
  private final ClusterSharding sharding;

  public ShardedParkedJobs(ActorSystem<?> system) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
  }

  @Override
  public void deliver(String jobId, EndpointCommand.SlotReply reply) {
    sharding.entityRefFor(RequestEntity.ENTITY_KEY, jobId).tell(RequestCommand.slotReply(reply));
  }

  @Override
  public void recall(String endpoint) {
    system.eventStream().tell(new EventStream.Publish<>(new ParkedJobs.Recall(endpoint)));
  }
}
