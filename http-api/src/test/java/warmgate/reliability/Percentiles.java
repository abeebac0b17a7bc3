package warmgate.reliability;

import java.util.List;

/** The percentiles the reliability tests print (attempts per job, job durations). */
final class Percentiles {
  private Percentiles() {}

  /** Nearest rank: the smallest value at or above fraction {@code p} of {@code sorted}, which must not be empty. */
  static <T extends Comparable<T>> T nearestRank(List<T> sorted, double p) {
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
  }
}
