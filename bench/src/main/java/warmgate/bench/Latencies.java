package warmgate.bench;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Recorded durations of one kind (nanoseconds), summarised as percentiles. Samples are kept whole rather than
 * bucketed: a benchmark records at most a few hundred thousand, and exact p99s need no bucket-width caveat.
 * Safe to record from several threads.
 */
public final class Latencies {
  private long[] samples = new long[1024];
  private int count;

  public synchronized void record(long nanos) {
    if (nanos < 0) {
      throw new IllegalArgumentException("a duration cannot be negative: " + nanos);
    }
    if (count == samples.length) {
      samples = Arrays.copyOf(samples, samples.length * 2);
    }
    samples[count++] = nanos;
  }

  public synchronized int count() {
    return count;
  }

  /** The smallest sample at or above the given fraction of all samples (nearest-rank), in nanoseconds. */
  public synchronized long percentile(double fraction) {
    if (count == 0) {
      throw new IllegalStateException("no samples recorded");
    }
    if (fraction <= 0 || fraction > 1) {
      throw new IllegalArgumentException("fraction must be in (0, 1]: " + fraction);
    }
    long[] sorted = Arrays.copyOf(samples, count);
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(fraction * count);
    return sorted[rank - 1];
  }

  public synchronized long max() {
    return percentile(1.0);
  }

  /** A percentile in milliseconds with two decimals, for tables. */
  public String millis(double fraction) {
    return String.format(java.util.Locale.ROOT, "%.2f",
        percentile(fraction) / (double) TimeUnit.MILLISECONDS.toNanos(1));
  }
}
