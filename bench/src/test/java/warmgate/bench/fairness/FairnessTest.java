package warmgate.bench.fairness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import warmgate.bench.fairness.Fairness.Job;
import warmgate.bench.fairness.Fairness.Run;
import warmgate.bench.fairness.Fairness.Window;

// No node, no clock: the fairness benchmark's arithmetic on hand-made job timelines.
class FairnessTest {

  @Test
  void jainIsOneForEqualSharesAndOneOverNForOneOwnerWithEverything() {
    assertThat(Fairness.jain(new double[] {3, 3, 3, 3})).isEqualTo(1.0);
    assertThat(Fairness.jain(new double[] {8, 0, 0, 0})).isEqualTo(0.25);
    // (1 + 2 + 3)² / (3 · (1 + 4 + 9)) = 36 / 42
    assertThat(Fairness.jain(new double[] {1, 2, 3})).isCloseTo(36.0 / 42, within(1e-12));
    assertThat(Fairness.jain(new double[] {0, 0})).isEqualTo(1.0);
    assertThatThrownBy(() -> Fairness.jain(new double[0])).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Fairness.jain(new double[] {1, -1})).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void percentileIsNearestRank() {
    double[] hundred = new double[100];
    for (int i = 0; i < 100; i++) {
      hundred[99 - i] = i + 1; // 100 down to 1: the order given must not matter
    }
    assertThat(Fairness.percentile(hundred, 0.5)).isEqualTo(50);
    assertThat(Fairness.percentile(hundred, 0.99)).isEqualTo(99);
    assertThat(Fairness.percentile(hundred, 1.0)).isEqualTo(100);
    assertThat(Fairness.percentile(new double[] {0.2, 7.0}, 0.99)).isEqualTo(7.0);
    assertThat(Fairness.percentile(new double[] {5}, 0.5)).isEqualTo(5);
    assertThat(hundred[0]).as("the input is left as it was").isEqualTo(100);
    assertThatThrownBy(() -> Fairness.percentile(new double[0], 0.5)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Fairness.percentile(hundred, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void splitsSlotSecondsAcrossWindowsAndCountsWaitingOwnersAsActive() {
    List<Job> jobs = List.of(
        // a runs from 8 s to 14 s: 2 s in the first window, 4 s in the second
        new Job("a", 0, 8, List.of(new Run(8, 14))),
        // b waits from 5 s to 12 s, runs 12 to 13: active in both windows, slot time only in the second
        new Job("b", 5, 12, List.of(new Run(12, 13))),
        // c queued in the last, short window and runs inside it
        new Job("c", 20.5, 21, List.of(new Run(21, 21.5))));

    List<Window> windows = Fairness.windows(jobs, 2, 10, 0, 22);

    assertThat(windows).extracting(Window::start).containsExactly(0.0, 10.0, 20.0);
    assertThat(windows.get(2).end()).isEqualTo(22.0);
    assertThat(windows.get(2).capacity()).isEqualTo(4.0);
    assertThat(windows.get(0).slotSeconds()).isEqualTo(Map.of("a", 2.0, "b", 0.0));
    assertThat(windows.get(1).slotSeconds()).isEqualTo(Map.of("a", 4.0, "b", 1.0));
    assertThat(windows.get(2).slotSeconds()).isEqualTo(Map.of("c", 0.5));
    assertThat(windows.get(0).active()).isEqualTo(2);
    // b needed 1 s of service and had 5 s of the first window left after it was queued
    assertThat(windows.get(0).demand()).containsEntry("b", 1.0);
    // a still needed 6 s at 0 s, but a job holds one slot at a time: 6 s of the 10 s window
    assertThat(windows.get(0).demand()).containsEntry("a", 6.0);
    assertThat(windows.get(1).demand()).containsEntry("a", 4.0);
    assertThat(windows.get(0).jain()).isEqualTo(0.5); // (2 + 0)² / (2 · 4)
    assertThat(windows.get(1).jain()).isCloseTo(25.0 / 34, within(1e-12));
  }

  @Test
  void maxMinSharesGiveSmallDemandsInFullAndSplitTheRest() {
    Map<String, Double> shares = Fairness.maxMinShares(Map.of("a", 100.0, "b", 0.5, "c", 0.5, "d", 45.0), 80);
    assertThat(shares.get("b")).isEqualTo(0.5);
    assertThat(shares.get("c")).isEqualTo(0.5);
    assertThat(shares.get("a")).isEqualTo(39.5);
    assertThat(shares.get("d")).isEqualTo(39.5);
    assertThat(Fairness.maxMinShares(Map.of("a", 1.0, "b", 2.0), 80)).isEqualTo(Map.of("a", 1.0, "b", 2.0));
  }

  @Test
  void jainOfFairSharesTellsAStarvedSmallOwnerFromOneThatAskedLittle() {
    // Both windows: a keeps 8 slots busy; b queues one 0.05 s job at 1 s.
    List<Job> servedAtOnce = List.of(new Job("a", 0, 0, List.of(new Run(0, 9.95))),
        new Job("b", 1, 1, List.of(new Run(1, 1.05))));
    List<Job> starved = List.of(new Job("a", 0, 0, List.of(new Run(0, 10))),
        new Job("b", 1, 10.5, List.of(new Run(10.5, 10.55))));

    Window fair = Fairness.windows(servedAtOnce, 8, 10, 0, 10).get(0);
    Window fifo = Fairness.windows(starved, 8, 10, 0, 20).get(0);

    // Plain Jain cannot tell them apart: a's slot time dwarfs b's either way.
    assertThat(fair.jain()).isLessThan(0.51);
    assertThat(fifo.jain()).isEqualTo(0.5);
    // Against each owner's fair share given its demand, one is fair and the other not.
    assertThat(fair.jainOfFairShares()).isCloseTo(1.0, within(1e-9));
    assertThat(fifo.jainOfFairShares()).isEqualTo(0.5);
  }

  @Test
  void sharedWindowsLeaveOutWindowsWithOneActiveOwner() {
    List<Job> jobs = List.of(new Job("a", 0, 0, List.of(new Run(0, 30))),
        new Job("b", 12, 12, List.of(new Run(12, 14))));
    List<Window> windows = Fairness.windows(jobs, 1, 10, 0, 30);

    Fairness.Spread spread = Fairness.overSharedWindows(windows, Window::jain);

    assertThat(spread.n()).isEqualTo(1);
    assertThat(spread.min()).isEqualTo(windows.get(1).jain());
    assertThat(spread.mean()).isEqualTo(spread.min());
    assertThat(Fairness.overSharedWindows(windows.subList(0, 1), Window::jain).n()).isZero();
  }
}
