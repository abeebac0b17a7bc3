package warmgate;

import java.time.Duration;

/**
 * Retry delays that double from {@code min} up to {@code max}, with "equal jitter": half of each delay is fixed,
 * half random, so many failures at once spread out instead of retrying together.
 */
public final class Backoff {
  private Backoff() {}

  /**
   * @param attempt the attempt that just failed, from 1
   * @param random a number in [0, 1)
   */
  public static Duration delay(Duration min, Duration max, int attempt, double random) {
    long cap = max.toMillis();
    long doubled = min.toMillis() << Math.min(attempt - 1, 30);
    long base = Math.min(cap, doubled < 0 ? cap : doubled);
    return Duration.ofMillis(base / 2 + (long) (random * (base / 2)));
  }
}
