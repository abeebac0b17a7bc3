package warmgate.bench.cost;

import java.util.Arrays;

/**
 * One endpoint's jobs over a stretch of simulated time, in milliseconds from the start. Per job, its service time
 * and the cold-start duration the endpoint takes if this job is the one that starts it: drawn once with the trace,
 * so every policy (and the offline optimum) meets the same starts.
 *
 * @param arrivals sorted job arrival times
 * @param service how long each job holds its slot
 * @param coldStart how long a start triggered by this job takes until the endpoint is in service
 */
public record Trace(String name, String shape, long[] arrivals, long[] service, long[] coldStart) {

  public Trace {
    if (arrivals.length != service.length || arrivals.length != coldStart.length) {
      throw new IllegalArgumentException("one service time and one cold start per arrival");
    }
    for (int i = 1; i < arrivals.length; i++) {
      if (arrivals[i] < arrivals[i - 1]) {
        throw new IllegalArgumentException("arrivals must be sorted");
      }
    }
  }

  public int jobs() {
    return arrivals.length;
  }

  /** The first {@code n} jobs only: a short trace for tests. */
  public Trace first(int n) {
    int k = Math.min(n, jobs());
    return new Trace(name, shape, Arrays.copyOf(arrivals, k), Arrays.copyOf(service, k), Arrays.copyOf(coldStart, k));
  }
}
