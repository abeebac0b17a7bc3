package warmgate.bench.fairness;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The fairness benchmark's arithmetic, free of nodes and clocks: queue waits and slot-seconds per owner, 10 s
 * windows, and Jain's index over the owners active in each window. Times are seconds since the run began.
 */
final class Fairness {
  private Fairness() {}

  /** One attempt's hold on a slot: from its AttemptStarted to the event that ended it. */
  record Run(double start, double end) {
    double seconds() {
      return end - start;
    }
  }

  /**
   * One job as its events tell it.
   *
   * @param queued its first JobQueued
   * @param started its first AttemptStarted
   * @param runs every attempt, in order
   */
  record Job(String owner, double queued, double started, List<Run> runs) {
    double waited() {
      return started - queued;
    }

    double ended() {
      return runs.isEmpty() ? started : runs.get(runs.size() - 1).end();
    }

    double slotSeconds() {
      return runs.stream().mapToDouble(Run::seconds).sum();
    }
  }

  /**
   * One window of time and what each owner had in it.
   *
   * @param slotSeconds per owner active in the window, the slot time its attempts held within it
   * @param demand per owner active in the window, the slot time it could have used within it (below)
   * @param capacity slots × the window's length
   */
  record Window(double start, double end, Map<String, Double> slotSeconds, Map<String, Double> demand,
      double capacity) {
    int active() {
      return slotSeconds.size();
    }

    /** Jain's index over the active owners' slot-seconds. */
    double jain() {
      return Fairness.jain(slotSeconds.values().stream().mapToDouble(Double::doubleValue).toArray());
    }

    /**
     * Jain's index over each active owner's slot-seconds divided by its max-min fair share of the window's
     * capacity given every owner's demand (Jain, Chiu and Hawe's x = allocation / fair allocation): 1 when every
     * owner got its fair share, whatever its demand.
     */
    double jainOfFairShares() {
      Map<String, Double> fair = maxMinShares(demand, capacity);
      double[] x = slotSeconds.keySet().stream().mapToDouble(owner -> {
        double share = fair.getOrDefault(owner, 0.0);
        return share <= 0 ? 1.0 : slotSeconds.get(owner) / share;
      }).toArray();
      return Fairness.jain(x);
    }
  }

  /** Jain's fairness index (Σx)² / (n·Σx²): 1 when all are equal, 1/n when one has everything. */
  static double jain(double[] x) {
    if (x.length == 0) {
      throw new IllegalArgumentException("Jain's index of nobody");
    }
    double sum = 0;
    double squares = 0;
    for (double v : x) {
      if (v < 0) {
        throw new IllegalArgumentException("a negative allocation: " + v);
      }
      sum += v;
      squares += v * v;
    }
    return squares == 0 ? 1.0 : sum * sum / (x.length * squares);
  }

  /** The smallest value at or above the given fraction of all values (nearest rank), as {@code Latencies}. */
  static double percentile(double[] values, double fraction) {
    if (values.length == 0) {
      throw new IllegalArgumentException("no values");
    }
    if (fraction <= 0 || fraction > 1) {
      throw new IllegalArgumentException("fraction must be in (0, 1]: " + fraction);
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[(int) Math.ceil(fraction * sorted.length) - 1];
  }

  static double overlap(double from, double to, double windowStart, double windowEnd) {
    return Math.max(0, Math.min(to, windowEnd) - Math.max(from, windowStart));
  }

  /**
   * Cuts {@code [from, to)} into windows of {@code width} seconds (the last may be shorter). An owner is active in a
   * window when one of its jobs was queued or running in it (from its JobQueued to its last attempt's end). Its
   * demand there is what its jobs could have used had each held a slot from the moment it was queued (or the
   * window began, if later) until its remaining service was done: per job, the smaller of the service it still
   * needed and the time left in the window.
   */
  static List<Window> windows(List<Job> jobs, int slots, double width, double from, double to) {
    if (width <= 0 || to <= from) {
      throw new IllegalArgumentException("no windows in [" + from + ", " + to + ") of width " + width);
    }
    List<Window> windows = new ArrayList<>();
    for (double start = from; start < to; start += width) {
      double end = Math.min(start + width, to);
      Map<String, Double> slotSeconds = new TreeMap<>();
      Map<String, Double> demand = new TreeMap<>();
      for (Job job : jobs) {
        if (overlap(job.queued(), job.ended(), start, end) <= 0) {
          continue;
        }
        double held = 0;
        double stillNeeded = 0;
        for (Run run : job.runs()) {
          held += overlap(run.start(), run.end(), start, end);
          stillNeeded += overlap(run.start(), run.end(), start, Double.POSITIVE_INFINITY);
        }
        double couldUse = Math.min(stillNeeded, end - Math.max(job.queued(), start));
        slotSeconds.merge(job.owner(), held, Double::sum);
        demand.merge(job.owner(), Math.max(0, couldUse), Double::sum);
      }
      windows.add(new Window(start, end, slotSeconds, demand, slots * (end - start)));
    }
    return windows;
  }

  /** Water-filling: capacity shared equally, an owner never given more than it demands, the rest shared again. */
  static Map<String, Double> maxMinShares(Map<String, Double> demand, double capacity) {
    Map<String, Double> shares = new HashMap<>();
    TreeSet<String> open = new TreeSet<>(demand.keySet());
    double left = capacity;
    while (!open.isEmpty() && left > 1e-12) {
      double each = left / open.size();
      List<String> satisfied = new ArrayList<>();
      for (String owner : open) {
        double want = demand.get(owner) - shares.getOrDefault(owner, 0.0);
        if (want <= each) {
          satisfied.add(owner);
        }
      }
      if (satisfied.isEmpty()) {
        for (String owner : open) {
          shares.merge(owner, each, Double::sum);
        }
        break;
      }
      for (String owner : satisfied) {
        double want = demand.get(owner) - shares.getOrDefault(owner, 0.0);
        shares.merge(owner, want, Double::sum);
        left -= want;
        open.remove(owner);
      }
    }
    for (String owner : demand.keySet()) {
      shares.putIfAbsent(owner, 0.0);
    }
    return shares;
  }

  /** The minimum and mean of an index over the windows with at least two active owners; n is how many there were. */
  record Spread(double min, double mean, int n) {}

  static Spread overSharedWindows(List<Window> windows, java.util.function.ToDoubleFunction<Window> index) {
    double[] values = windows.stream().filter(w -> w.active() >= 2).mapToDouble(index).toArray();
    if (values.length == 0) {
      return new Spread(Double.NaN, Double.NaN, 0);
    }
    return new Spread(Arrays.stream(values).min().getAsDouble(), Arrays.stream(values).average().getAsDouble(),
        values.length);
  }
}
