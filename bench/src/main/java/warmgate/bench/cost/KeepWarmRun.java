package warmgate.bench.cost;

import java.time.Duration;
import java.time.Instant;
import warmgate.endpoint.KeepWarmPolicy;

/** Runs a trace under a {@link KeepWarmPolicy}, the class the lifecycle itself asks, learning as the actor does. */
final class KeepWarmRun {
  private KeepWarmPolicy policy;

  private KeepWarmRun(KeepWarmPolicy policy) {
    this.policy = policy;
  }

  static Outcome run(String name, KeepWarmPolicy policy, Trace trace, int concurrency, long stopMillis,
      double delayWeight) {
    KeepWarmRun run = new KeepWarmRun(policy);
    LifecycleSimulator sim = LifecycleSimulator.cold(trace, concurrency, stopMillis, (at, gap) -> run.policy =
        run.policy.jobArrived(Instant.ofEpochMilli(at), gap < 0 ? null : Duration.ofMillis(gap)));
    while (sim.runToIdle()) {
      sim.keepWarmFor(run.policy.keepWarmFor().toMillis());
    }
    return new Outcome(name, sim.billedMillis(), sim.coldStarts(), sim.waits(), delayWeight);
  }
}
