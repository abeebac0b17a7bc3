package warmgate.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Waits, under load, until this JVM's JIT compilers have gone quiet, and measures how busy they are afterwards.
 *
 * <p>Why: on two cores the compilers share the machine with the node under test, and a node's hot paths take
 * them two minutes or more to compile. A window that starts after a fixed warm-up of 60 s still had the compilers
 * busy about one second of compiling per second ({@code jstat -compiler}), and the node's CPU per notification
 * measured in it was 1.6 times the one measured after 180 s, when they had settled (docs/benchmarks.md, section
 * 10). Only the JVM that runs the node is seen: the benchmarks that run the node in their own JVM use this.
 */
public final class JitSettle {
  /** Compiling for less than this share of the wall clock over {@link #STEP} counts as quiet. */
  public static final double QUIET_SHARE = 0.05;
  static final Duration STEP = Duration.ofSeconds(10);

  private final Duration step;
  private final LongSupplier compiled;

  /** This JVM's compilers, looked at every {@link #STEP}. */
  public JitSettle() {
    this(STEP, JitSettle::compilersMillis);
  }

  /** @param compiled milliseconds spent compiling so far, never decreasing */
  JitSettle(Duration step, LongSupplier compiled) {
    this.step = step;
    this.compiled = compiled;
  }

  /** Milliseconds the compilers have spent so far, summed over their threads. */
  long compiledMillis() {
    return compiled.getAsLong();
  }

  /** From now on: {@link Since#share} says how busy the compilers have been since. */
  public Since mark() {
    return new Since();
  }

  /** A moment, and where the compilers stood then. */
  public final class Since {
    private final long compiledAt = compiledMillis();
    private final long nanosAt = System.nanoTime();

    /** The compilers' time since this moment over the wall clock's (above 1 when both compiler threads worked). */
    public double share() {
      return (compiledMillis() - compiledAt) / ((System.nanoTime() - nanosAt) / 1e6);
    }
  }

  private static long compilersMillis() {
    CompilationMXBean compiler = ManagementFactory.getCompilationMXBean();
    return compiler != null && compiler.isCompilationTimeMonitoringSupported() ? compiler.getTotalCompilationTime()
        : 0;
  }

  /**
   * Sleeps in steps of {@link #STEP} (10 s) until one step saw the compilers busy less than {@link #QUIET_SHARE} of
   * it, or until {@code atMost}; the caller's load keeps running meanwhile.
   *
   * @return how long it waited
   */
  public Duration awaitQuiet(Duration atMost) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + atMost.toNanos();
    while (System.nanoTime() < deadline) {
      Since since = mark();
      Thread.sleep(step.toMillis());
      double share = since.share();
      if (share < QUIET_SHARE) {
        break;
      }
      System.err.printf(Locale.ROOT, "   the JIT compiled %.0f %% of the last %d s; warming up on%n", 100 * share,
          step.toSeconds());
    }
    return Duration.ofNanos(System.nanoTime() - start);
  }
}
