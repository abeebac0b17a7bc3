package warmgate.bench.cost;

import java.time.Duration;
import java.time.Instant;
import warmgate.endpoint.KeepWarmPolicy;

/**
 * Runs a {@link MaskedTrace} under a keep-warm policy, with or without {@code warm-on-first-input}: without, the
 * endpoint hears of a job when its mask is there; with, also when its image is (a hint per image, whether its mask
 * ever comes or not).
 *
 * @param billedMillis endpoint time billed by the lifecycle's ledger
 * @param coldStarts starts of a cold endpoint
 * @param timeToResult per job that runs (in {@link MaskedTrace#ready()} order): from its image's arrival to the end
 *     of its inference
 */
record WarmUpRun(long billedMillis, int coldStarts, long[] timeToResult) {

  static WarmUpRun run(KeepWarmPolicy initial, MaskedTrace uploads, boolean warmOnFirstInput, int concurrency,
      long stopMillis) {
    Trace ready = uploads.ready();
    int[] images = uploads.readyImages();
    long[] hints = warmOnFirstInput ? uploads.images().arrivals() : new long[0];
    long[] hintStarts = warmOnFirstInput ? uploads.images().coldStart() : new long[0];
    KeepWarmPolicy[] policy = {initial};
    LifecycleSimulator sim = LifecycleSimulator.cold(ready, concurrency, stopMillis, (at, gap) -> policy[0] =
        policy[0].jobArrived(Instant.ofEpochMilli(at), gap < 0 ? null : Duration.ofMillis(gap)), hints, hintStarts);
    while (sim.runToIdle()) {
      sim.keepWarmFor(policy[0].keepWarmFor().toMillis());
    }
    long[] waits = sim.waits();
    long[] ttr = new long[ready.jobs()];
    for (int j = 0; j < ready.jobs(); j++) {
      ttr[j] = ready.arrivals()[j] - uploads.images().arrivals()[images[j]] + waits[j] + ready.service()[j];
    }
    return new WarmUpRun(sim.billedMillis(), sim.coldStarts(), ttr);
  }
}
