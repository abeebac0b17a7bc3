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
   * Logs why and runs coordinated shutdown with this reason. The JVM ends with {@value #EXIT_STATUS} when
   * {@code exit-jvm} is on, or when {@link #exitOnShutdown} was called (as {@code warmgate serve} does); a test that
   * started the node in its own JVM only sees the actor system end.
   *
   * @param what what could not start, as the log line's first words
   */
  public static void shutDown(ActorSystem<?> system, String what, Throwable cause) {
    log.error("{}; shutting down, exit status {}", what, EXIT_STATUS, cause);
    CoordinatedShutdown.get(system).runAll(INSTANCE);
  }

  /** As {@link #shutDown}, then waits for the shutdown (bounded) and ends the JVM with {@value #EXIT_STATUS}. */
  public static void exit(ActorSystem<?> system, String what, Throwable cause) {
    log.error("{}; shutting down, exit status {}", what, EXIT_STATUS, cause);
    try {
      CoordinatedShutdown.get(system).runAll(INSTANCE).toCompletableFuture().get(SHUTDOWN_WAIT_SECONDS,
          TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("Coordinated shutdown did not finish; ending the JVM anyway", e);
    } finally {
      System.exit(EXIT_STATUS);
    }
  }

  /** For the process that owns the JVM: once {@code system} has ended for this reason, the JVM ends too, failed. */
  public static void exitOnShutdown(ActorSystem<?> system) {
    system.getWhenTerminated().thenRun(() -> {
      if (CoordinatedShutdown.get(system).getShutdownReason().filter(INSTANCE::equals).isPresent()) {
        new Thread(() -> System.exit(EXIT_STATUS), "warmgate-start-failed").start();
      }
    });
  }

  @Override
  public String toString() {
    return "StartFailed";
  }
}
