package warmgate.cluster;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * Whether this node's HTTP edge takes requests: bound, and not yet draining for shutdown. {@link NodeReady}
 * reads it, so a load balancer sends nothing before the edge listens and stops sending as soon as the node
 * begins to leave, before the edge unbinds.
 */
public final class HttpEdge implements Extension {
  private final AtomicBoolean serving = new AtomicBoolean();

  private HttpEdge() {}

  public static HttpEdge get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  public boolean serving() {
    return serving.get();
  }

  /** Marks the edge serving once {@code binding} completes, and not serving when coordinated shutdown starts. */
  public void track(ActorSystem<?> system, CompletionStage<ServerBinding> binding) {
    binding.thenAccept(bound -> serving.set(true));
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "warmgate-edge-not-ready",
        () -> {
      serving.set(false);
      return CompletableFuture.completedFuture(Done.getInstance());
    });
  }

  static final class Id extends ExtensionId<HttpEdge> {
    static final Id INSTANCE = new Id();

    @Override
    public HttpEdge createExtension(ActorSystem<?> system) {
      return new HttpEdge();
    }
  }
}
