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
}
