package warmgate.cluster;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Readiness ({@code /ready}, registered in cluster.conf): this node's HTTP edge is bound and its member is Up.
 * Before that a request could reach an edge that is not listening, or a node whose shards cannot be
 * allocated yet; once the node starts leaving it answers false, so traffic drains before the edge unbinds.
 */
public final class NodeReady implements Supplier<CompletionStage<Boolean>> {
  private final org.apache.pekko.actor.typed.ActorSystem<?> system;

  public NodeReady(ActorSystem system) {
    this.system = Adapter.toTyped(system);
  }

  @Override
  public CompletionStage<Boolean> get() {
    boolean up = Cluster.get(system).selfMember().status().equals(MemberStatus.up());
    return CompletableFuture.completedFuture(up && HttpEdge.get(system).serving());
  }
}
