package warmgate.gateway;

import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import warmgate.endpoint.EndpointCommand;
import warmgate.endpoint.EndpointEntity;
import warmgate.job.ObjectRef;
import warmgate.provider.AsyncResult;
import warmgate.request.RequestCommand;
import warmgate.request.RequestEntity;

/**
 * {@link AsyncNotices} told to the sharded entities, without waiting for them: a notice that gets lost costs a
 * job only the time to its next look.
 */
public final class ShardedAsyncNotices implements AsyncNotices {
  private final ClusterSharding sharding;

  public ShardedAsyncNotices(ClusterSharding sharding) {
    this.sharding = sharding;
  }

  @Override
  public void resultNoticed(AsyncResult result) {
    sharding.entityRefFor(RequestEntity.ENTITY_KEY, result.inferenceId()).tell(RequestCommand.ResultNoticed.of(result));
  }

  /** The endpoint knows which jobs hold its slots, so the news goes to them through it. */
  @Override
  public void resultLanded(String endpoint, ObjectRef location) {
    sharding.entityRefFor(EndpointEntity.ENTITY_KEY, endpoint).tell(new EndpointCommand.ResultLanded(location));
  }
}
