package warmgate.gateway;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import warmgate.endpoint.EndpointCommand;
import warmgate.endpoint.EndpointEntity;
import warmgate.endpoint.Endpoints;

/** {@link EndpointStates} backed by the sharded EndpointLifecycle entities. */
public final class ShardedEndpointStates implements EndpointStates {
  private final ClusterSharding sharding;
  private final Endpoints endpoints;
  private final Duration askTimeout;

  public ShardedEndpointStates(ClusterSharding sharding, Endpoints endpoints, Duration askTimeout) {
    this.sharding = sharding;
    this.endpoints = endpoints;
    this.askTimeout = askTimeout;
  }

  @Override
  public Set<String> names() {
    return endpoints.names();
  }

  @Override
  public CompletionStage<EndpointCommand.View> get(String name) {
    return sharding.entityRefFor(EndpointEntity.ENTITY_KEY, name).ask(EndpointCommand.Get::new, askTimeout);
  }

  @Override
  public CompletionStage<EndpointCommand.View> start(String name) {
    return Refused.fromStatusReply(sharding.entityRefFor(EndpointEntity.ENTITY_KEY, name)
        .askWithStatus(EndpointCommand.Start::new, askTimeout));
  }

  @Override
  public CompletionStage<EndpointCommand.View> stop(String name) {
    return Refused.fromStatusReply(sharding.entityRefFor(EndpointEntity.ENTITY_KEY, name)
        .askWithStatus(EndpointCommand.Stop::new, askTimeout));
  }

  @Override
  public void providerReported(String name, String status) {
    sharding.entityRefFor(EndpointEntity.ENTITY_KEY, name).tell(new EndpointCommand.ProviderReported(status));
  }
}
