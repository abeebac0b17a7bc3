package warmgate.provider.process;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model processes one node started, so that they end with it. Each endpoint's lifecycle stops its own process
 * as it leaves the node (and records the stop); {@link #close} stops those still running as the node ends (a
 * lifecycle that did not get to it), and a JVM shutdown hook does the same if the node never closes this, e.g.
 * a JVM exiting while its actor system is still up.
 */
public final class ChildProcesses implements AutoCloseable {
  /** Registers nothing: for a provider made outside a node (tests, tools); its processes outlive this JVM. */
  public static final ChildProcesses NONE = new ChildProcesses(false);

  private static final Logger log = LoggerFactory.getLogger(ChildProcesses.class);
  /**
   * How long the shutdown hook leaves the graceful path (the lifecycles leaving during sharding's shutdown, then
   * {@link #close}) before it stops the processes itself: JVM shutdown hooks run at once and side by side, Pekko's
   * coordinated shutdown among them, and the hook must not stop a process whose lifecycle is about to record it.
   */
  static final Duration HOOK_PATIENCE = Duration.ofSeconds(30);

  private final boolean tracking;
  private final Map<ProcessHandle, Duration> running = new ConcurrentHashMap<>();
  private final Thread hook;
  private volatile boolean closed;

  private ChildProcesses(boolean tracking) {
    this.tracking = tracking;
    this.hook = tracking ? new Thread(this::lastResort, "model-processes-shutdown") : null;
  }

  /** Tracks the processes it is given and stops them when closed, or when the JVM exits without closing it. */
  public static ChildProcesses ofThisNode() {
    ChildProcesses children = new ChildProcesses(true);
    Runtime.getRuntime().addShutdownHook(children.hook);
    return children;
  }

  /** @param stopGrace how long it may take to exit after SIGTERM before it is killed */
  void add(ProcessHandle process, Duration stopGrace) {
    if (tracking) {
      running.keySet().removeIf(p -> !p.isAlive());
      running.put(process, stopGrace);
    }
  }

  /** How many tracked processes are still alive. */
  public int alive() {
    return (int) running.keySet().stream().filter(ProcessHandle::isAlive).count();
  }

  /** Stops every tracked process still alive: SIGTERM, then SIGKILL after its stop grace. */
  @Override
  public void close() {
    if (!tracking || closed) {
      return;
    }
    closed = true;
    stopAll();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down already; the hook finds nothing left to do
    }
  }

  private void stopAll() {
    running.forEach((process, grace) -> {
      if (process.isAlive()) {
        log.warn("Stopping model process {}, still running as this node ends", process.pid());
        process.destroy();
      }
    });
    running.forEach((process, grace) -> {
      try {
        process.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        log.warn("Model process {} ignored SIGTERM for {}; killing it", process.pid(), grace);
        process.destroyForcibly();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      } catch (java.util.concurrent.ExecutionException e) {
        process.destroyForcibly();
      }
    });
    running.clear();
  }

  private void lastResort() {
    long deadline = System.nanoTime() + HOOK_PATIENCE.toNanos();
    try {
      while (!closed && alive() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!closed) {
      stopAll();
    }
  }
}
