package warmgate.bench.cost;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import warmgate.config.KeepWarmSettings;
import warmgate.endpoint.EndpointLifecycle.Phase;
import warmgate.endpoint.KeepWarmPolicy;

// Pure simulation on a simulated clock; no actors, no database.
class CostSimulationTest {
  private static final long STOP = Duration.ofMinutes(1).toMillis();

  private static List<Trace> traces(long seed) {
    TraceShapes shapes = new TraceShapes(seed, 3, Duration.ofMinutes(5), Duration.ofMinutes(10));
    return TraceShapes.NAMES.stream().map(shapes::trace).map(t -> t.first(400)).toList();
  }

  private static List<KeepWarmPolicy> policies(double delayWeight) {
    return List.of(
        new KeepWarmPolicy.Fixed(Duration.ofMinutes(10)),
        new KeepWarmPolicy.Fixed(Duration.ofMinutes(2)),
        new KeepWarmPolicy.Fixed(Duration.ofSeconds(1)),
        new KeepWarmPolicy.Fixed(Duration.ofHours(3)),
        KeepWarmPolicy.Adaptive.initial(new KeepWarmSettings(KeepWarmSettings.Policy.ADAPTIVE, Duration.ofMinutes(8),
            delayWeight, Duration.ofMinutes(2), Duration.ofMinutes(30), 50)));
  }

  @Test
  void offlineOptimumCostsNoMoreThanAnyPolicyOnEveryTrace() {
    for (long seed : new long[] {1, 2, 3}) {
      for (Trace trace : traces(seed)) {
        for (double w : new double[] {0, 1}) {
          Outcome opt = new OfflineOptimum(trace, 2, STOP, w).run();
          for (KeepWarmPolicy policy : policies(w)) {
            Outcome out = KeepWarmRun.run(policy.toString(), policy, trace, 2, STOP, w);
            assertThat(opt.cost()).as("%s, seed %d, w %s, against %s", trace.name(), seed, w, policy)
                .isLessThanOrEqualTo(out.cost() + 1e-6);
          }
        }
      }
    }
  }

  @Test
  void optimumReplayedThroughTheLifecycleCostsWhatTheSearchFound() {
    for (Trace trace : traces(7)) {
      OfflineOptimum optimum = new OfflineOptimum(trace, 2, STOP, 1);
      assertThat(optimum.run().cost()).as(trace.name()).isCloseTo(optimum.bestCost(),
          org.assertj.core.data.Offset.offset(1e-3));
    }
  }

  @Test
  void everyJobIsServedAndColdStartsOnlyAddWaitToWhatAnAlwaysWarmEndpointGives() {
    for (Trace trace : traces(4)) {
      long[] warm = CostSimulation.warmWaits(trace, 2);
      for (KeepWarmPolicy policy : policies(1)) {
        Outcome out = KeepWarmRun.run(policy.toString(), policy, trace, 2, STOP, 1);
        for (int j = 0; j < trace.jobs(); j++) {
          assertThat(out.waits()[j]).as("%s job %d", trace.name(), j).isGreaterThanOrEqualTo(warm[j]);
        }
        assertThat(out.coldStarts()).isPositive();
      }
    }
  }

  @Test
  void billsFromEachStartRequestToItsStopThroughTheLifecyclesLedger() {
    // One job at 0 s: a 5-min start, 20 s of work, 2 min warm and idle, a 1-min stop.
    Trace one = new Trace("one", "one job", new long[] {0}, new long[] {20_000}, new long[] {300_000});
    LifecycleSimulator sim = LifecycleSimulator.cold(one, 2, STOP, LifecycleSimulator.Arrivals.NONE);
    while (sim.runToIdle()) {
      sim.keepWarmFor(Duration.ofMinutes(2).toMillis());
    }
    assertThat(sim.state().phase()).isEqualTo(Phase.COLD);
    assertThat(sim.billedMillis()).isEqualTo(300_000 + 20_000 + 120_000 + 60_000);
    assertThat(sim.waits()).containsExactly(300_000);
  }

  @Test
  void sameSeedGivesTheSameTraceAndFigures() {
    CostSimulation.Options quick = CostSimulation.parse(new String[] {"--days", "2", "--traces",
        "office-hours,steady"});
    String first = CostSimulation.report(quick).markdown().replaceFirst("<!--.*-->", "");
    String second = CostSimulation.report(quick).markdown().replaceFirst("<!--.*-->", "");
    assertThat(first).isEqualTo(second).contains("offline optimum", "adaptive");
  }

  // ---- warm-on-first-input

  private static final KeepWarmPolicy TWO_MINUTES = new KeepWarmPolicy.Fixed(Duration.ofMinutes(2));

  @Test
  void earlyWarmUpOverlapsTheColdStartWithTheMaskUpload() {
    // An image at 0 s, its mask 60 s later; a 5-min start, 20 s of work, 2 min idle, a 1-min stop.
    MaskedTrace one = new MaskedTrace(new Trace("one", "one job", new long[] {0}, new long[] {20_000},
        new long[] {300_000}), new long[] {60_000}, "60 s");

    WarmUpRun off = WarmUpRun.run(TWO_MINUTES, one, false, 2, STOP);
    WarmUpRun on = WarmUpRun.run(TWO_MINUTES, one, true, 2, STOP);

    assertThat(off.timeToResult()).containsExactly(60_000 + 300_000 + 20_000);
    assertThat(on.timeToResult()).containsExactly(300_000 + 20_000);
    // The start moves 60 s earlier and the job waits for it instead of the endpoint: the same billed time.
    assertThat(off.billedMillis()).isEqualTo(300_000 + 20_000 + 120_000 + 60_000);
    assertThat(on.billedMillis()).isEqualTo(off.billedMillis());
    assertThat(on.coldStarts()).isEqualTo(off.coldStarts()).isEqualTo(1);
  }

  @Test
  void imageWhoseMaskNeverComesIsBilledAStartTheIdleTimeoutAndAStopWithTheOptionOnly() {
    MaskedTrace orphan = new MaskedTrace(new Trace("orphan", "no mask", new long[] {0}, new long[] {20_000},
        new long[] {300_000}), new long[] {MaskedTrace.NEVER}, "never");

    WarmUpRun off = WarmUpRun.run(TWO_MINUTES, orphan, false, 2, STOP);
    WarmUpRun on = WarmUpRun.run(TWO_MINUTES, orphan, true, 2, STOP);

    assertThat(off.billedMillis()).isZero();
    assertThat(off.coldStarts()).isZero();
    assertThat(on.billedMillis()).isEqualTo(300_000 + 120_000 + 60_000);
    assertThat(on.coldStarts()).isEqualTo(1);
    assertThat(on.timeToResult()).isEmpty();
  }

  @Test
  void hintToAWarmIdleEndpointCountsItsIdleTimeFromTheHint() {
    // Job 0 warms the endpoint and ends at 320 s; image 1 arrives at 400 s (idle since 320 s), its mask at 500 s.
    // Without the hint the endpoint stops at 440 s and job 1 meets a stopping endpoint; with it, it stays warm.
    MaskedTrace two = new MaskedTrace(new Trace("two", "two jobs", new long[] {0, 400_000},
        new long[] {20_000, 20_000}, new long[] {300_000, 300_000}), new long[] {0, 100_000}, "0 s, 100 s");

    WarmUpRun off = WarmUpRun.run(TWO_MINUTES, two, false, 2, STOP);
    WarmUpRun on = WarmUpRun.run(TWO_MINUTES, two, true, 2, STOP);

    // Off: stop 440-500 s, then a start 500-800 s for job 1; on: job 1 runs at 500 s.
    assertThat(off.timeToResult()).containsExactly(320_000, 100_000 + 300_000 + 20_000);
    assertThat(on.timeToResult()).containsExactly(320_000, 100_000 + 20_000);
    assertThat(off.coldStarts()).isEqualTo(2);
    assertThat(on.coldStarts()).isEqualTo(1);
  }

  @Test
  void hintsArrivingWithTheJobsThemselvesChangeNothing() {
    for (Trace trace : traces(5)) {
      MaskedTrace noDelay = new MaskedTrace(trace, new long[trace.jobs()], "0 s");
      WarmUpRun off = WarmUpRun.run(TWO_MINUTES, noDelay, false, 2, STOP);
      WarmUpRun on = WarmUpRun.run(TWO_MINUTES, noDelay, true, 2, STOP);
      assertThat(on.billedMillis()).as(trace.name()).isEqualTo(off.billedMillis());
      assertThat(on.timeToResult()).as(trace.name()).containsExactly(off.timeToResult());
      // And without hints it is the keep-warm run of the same trace.
      Outcome plain = KeepWarmRun.run("2 min", TWO_MINUTES, trace, 2, STOP, 0);
      assertThat(off.billedMillis()).as(trace.name()).isEqualTo(plain.billedMillis());
    }
  }

  @Test
  void maskDelaysAreDrawnApartFromTheTraceAndTheSameForTheSameSeed() {
    Trace trace = traces(1).get(0);
    MaskedTrace a = MaskedTrace.draw(trace, 1, Duration.ofSeconds(20), 1.0, 0.01, Duration.ofMinutes(10));
    MaskedTrace b = MaskedTrace.draw(trace, 1, Duration.ofSeconds(20), 1.0, 0.01, Duration.ofMinutes(10));

    assertThat(a.maskDelay()).containsExactly(b.maskDelay());
    assertThat(a.ready().jobs() + a.orphans()).isEqualTo(trace.jobs());
    assertThat(a.ready().arrivals()).isSorted();
    assertThat(traces(1).get(0).arrivals()).containsExactly(trace.arrivals());
  }
}
