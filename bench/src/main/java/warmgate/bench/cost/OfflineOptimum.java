package warmgate.bench.cost;

import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The cheapest way through a trace for someone who knows every arrival in advance, under the same rules as the
 * policies: the endpoint starts when a job asks and not before, and is stopped only while nothing is queued or
 * running. Cost is billed endpoint-time plus the jobs' wait priced at {@code delayWeight} ({@link Outcome#cost()}).
 *
 * <p>At each idle moment there are two choices worth considering: stay warm until the next job, or stop at once.
 * Any timeout in between is never better: it either ends up warm through the gap (the first choice, with nothing
 * saved) or pays the warm time before stopping on top of the second choice (and makes the next job wait longer).
 * The choices interact (a cold start delays the jobs after it, which shifts the next idle moment), so this is a
 * shortest path over idle moments, each one a (next job, time) pair, found by running each choice to the next idle
 * moment with the same {@link LifecycleSimulator} the policies run in. The choices found are then replayed from the
 * start as one more run, which is what the tables report, billed by the ledger like every other policy.
 */
final class OfflineOptimum {
  private final Trace trace;
  private final int concurrency;
  private final long stopMillis;
  private final double delayWeight;

  private record Moment(int next, long at) {}

  private record Node(Moment moment, double cost, Node parent, boolean stopped) {}

  OfflineOptimum(Trace trace, int concurrency, long stopMillis, double delayWeight) {
    this.trace = trace;
    this.concurrency = concurrency;
    this.stopMillis = stopMillis;
    this.delayWeight = delayWeight;
  }

  /** The optimum's run; its cost is {@link #bestCost()}'s. */
  Outcome run() {
    BitSet stopBefore = decisions();
    LifecycleSimulator sim = LifecycleSimulator.cold(trace, concurrency, stopMillis, LifecycleSimulator.Arrivals.NONE);
    while (sim.runToIdle()) {
      sim.keepWarmFor(sim.traceOver() || stopBefore.get(sim.nextArrival()) ? 0 : LifecycleSimulator.FOREVER);
    }
    return new Outcome("offline optimum", sim.billedMillis(), sim.coldStarts(), sim.waits(), delayWeight);
  }

  private Node best;

  /** The optimum's cost as the shortest-path search found it, before the replay. */
  double bestCost() {
    decisions();
    return best.cost();
  }

  /** For each idle moment on the cheapest path (named by the job that ends it): stop at once, or stay warm. */
  private BitSet decisions() {
    if (best == null) {
      best = search();
    }
    BitSet stopBefore = new BitSet();
    for (Node n = best; n.parent() != null; n = n.parent()) {
      if (n.parent().stopped()) {
        stopBefore.set(n.parent().moment().next());
      }
    }
    return stopBefore;
  }

  private Node search() {
    LifecycleSimulator first = LifecycleSimulator.cold(trace, concurrency, stopMillis,
        LifecycleSimulator.Arrivals.NONE);
    if (!first.runToIdle()) {
      return new Node(new Moment(trace.jobs(), 0), 0, null, true);
    }
    // Nodes by the next job to arrive, then by the moment's time; each reached at its cheapest.
    TreeMap<Integer, Map<Long, Node>> open = new TreeMap<>();
    add(open, new Node(new Moment(first.nextArrival(), first.now()), cost(first), null, false));
    Node end = null;
    while (!open.isEmpty()) {
      for (Node node : open.pollFirstEntry().getValue().values()) {
        Moment m = node.moment();
        if (m.next() >= trace.jobs()) {
          Node stopped = withChoice(node, true);
          LifecycleSimulator last = LifecycleSimulator.warmIdle(trace, concurrency, stopMillis, m.next(), m.at());
          last.keepWarmFor(0);
          last.runToIdle();
          double total = node.cost() + cost(last);
          if (end == null || total < end.cost()) {
            end = new Node(new Moment(trace.jobs(), last.now()), total, stopped, false);
          }
          continue;
        }
        for (boolean stop : new boolean[] {false, true}) {
          LifecycleSimulator branch = LifecycleSimulator.warmIdle(trace, concurrency, stopMillis, m.next(), m.at());
          branch.keepWarmFor(stop ? 0 : LifecycleSimulator.FOREVER);
          if (!branch.runToIdle()) {
            throw new IllegalStateException("jobs remained after " + m + " but no idle moment followed");
          }
          add(open, new Node(new Moment(branch.nextArrival(), branch.now()), node.cost() + cost(branch),
              withChoice(node, stop), false));
        }
      }
    }
    return end;
  }

  private static Node withChoice(Node node, boolean stopped) {
    return new Node(node.moment(), node.cost(), node.parent(), stopped);
  }

  private double cost(LifecycleSimulator sim) {
    return sim.billedMillis() + delayWeight * sim.waitedMillis();
  }

  private static void add(TreeMap<Integer, Map<Long, Node>> open, Node node) {
    open.computeIfAbsent(node.moment().next(), k -> new HashMap<>())
        .merge(node.moment().at(), node, (a, b) -> a.cost() <= b.cost() ? a : b);
  }
}
