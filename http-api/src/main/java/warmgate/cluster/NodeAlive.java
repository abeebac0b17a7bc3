package warmgate.cluster;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;

/**
 * Liveness ({@code /alive}, registered in cluster.conf): true while the actor system runs tasks on its default
 * dispatcher. Deliberately nothing else: a lost database, an unreachable peer or an endpoint that will not
 * start are not cured by a restart, and a liveness probe that failed on them would turn one outage into a
 * restart storm of every pod. Only a node too wedged to run this within the check timeout is restarted.
 */
public final class NodeAlive implements Supplier<CompletionStage<Boolean>> {
  private final ActorSystem system;

  public NodeAlive(ActorSystem system) {
    this.system = system;
  }

  @Override
  public CompletionStage<Boolean> get() {
    return CompletableFuture.supplyAsync(() -> !system.whenTerminated().isCompleted(), system.dispatcher());
  }
}
