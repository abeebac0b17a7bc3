package warmgate.cluster;

import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Why a node shut down when it could not start or could not begin forming its cluster. A node in that state
 * must end its JVM with a failure, never exit 0 nor linger with {@code /alive} answering: a container with
 * {@code restart: on-failure}, Kubernetes and any script that checks the exit status must see it.
 * {@code cluster.conf} gives this reason exit status {@value #EXIT_STATUS} ({@code reason-overrides}), for when
 * {@code exit-jvm} is on and Pekko ends the JVM itself.
 */
public final class StartFailed implements CoordinatedShutdown.Reason {
  public static final StartFailed INSTANCE = new StartFailed();
  public static final int EXIT_STATUS = 1;
  private static final Logger log = LoggerFactory.getLogger(StartFailed.class);
  /** Pekko's coordinated-shutdown phases stay well within this; past it the JVM ends anyway. */
  private static final long SHUTDOWN_WAIT_SECONDS = 30;

  private StartFailed() {}

  /**
   * Logs why, then, on a thread of its own (so it may be called from the actor system's threads), runs coordinated
   * shutdown with this reason and ends the JVM with {@value #EXIT_STATUS}, whether {@code exit-jvm} is on or off.
   *
   * @param what what could not start, as the log line's first words
   */
  public static void exit(ActorSystem<?> system, String what, Throwable cause) {
    log.error("{}; shutting down, exit status {}", what, EXIT_STATUS, cause);
    Thread exit = new Thread(() -> {
      try {
        CoordinatedShutdown.get(system).runAll(INSTANCE).toCompletableFuture().get(SHUTDOWN_WAIT_SECONDS,
            TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("Coordinated shutdown did not finish; ending the JVM anyway", e);
      } finally {
        System.exit(EXIT_STATUS);
      }
    }, "warmgate-start-failed");
    exit.start();
  }

  @Override
  public String toString() {
    return "StartFailed";
  }
}
