package warmgate.bench.cost;

/**
 * What one keep-warm policy cost on one trace.
 *
 * @param billedMillis endpoint time billed by the lifecycle's ledger, from each start request to its stop
 * @param coldStarts starts of a cold endpoint
 * @param waits each job's wait from arrival to slot
 * @param delayWeight what one millisecond of a job's wait costs, in billed milliseconds
 */
public record Outcome(String policy, long billedMillis, int coldStarts, long[] waits, double delayWeight) {

  public long waitedMillis() {
    long sum = 0;
    for (long w : waits) {
      sum += w;
    }
    return sum;
  }

  /** The figure the optimum minimises: billed time plus the jobs' wait priced at {@code delayWeight}. */
  public double cost() {
    return billedMillis + delayWeight * waitedMillis();
  }
}
