package warmgate.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import warmgate.config.KeepWarmSettings;
import warmgate.endpoint.KeepWarmPolicy.Adaptive;
import warmgate.endpoint.KeepWarmPolicy.Fixed;

// Pure policy arithmetic; no actors, no clock.
class KeepWarmPolicyTest {
  private static final Instant T0 = Instant.parse("2026-01-05T09:00:00Z");
  private static final KeepWarmSettings BILL_ONLY = new KeepWarmSettings(KeepWarmSettings.Policy.ADAPTIVE,
      Duration.ofMinutes(8), 0.0, Duration.ofMinutes(1), Duration.ofMinutes(30), 10);

  /** Single jobs, each {@code gap} after the last; returns the policy after them. */
  private static KeepWarmPolicy singles(KeepWarmPolicy policy, Duration gap, int count) {
    Instant at = T0;
    for (int i = 0; i < count; i++) {
      at = at.plus(gap);
      policy = policy.jobArrived(at, gap);
    }
    return policy;
  }

  private static Duration minutes(long m) {
    return Duration.ofMinutes(m);
  }

  @Test
  void fixedPolicyAlwaysKeepsWarmForTheIdleTimeout() {
    KeepWarmPolicy fixed = new Fixed(minutes(2));
    assertThat(singles(fixed, minutes(30), 20).keepWarmFor()).isEqualTo(minutes(2));
    assertThat(fixed.explain()).isEqualTo("idle for 120 s");
  }

  @Test
  void adaptivePolicyStartsWithTheBreakEvenRuleUntilItHasSeenEnoughGaps() {
    Adaptive fresh = Adaptive.initial(BILL_ONLY);
    assertThat(fresh.keepWarmFor()).isEqualTo(minutes(8));
    KeepWarmPolicy almost = singles(fresh, minutes(3), Adaptive.MIN_GAPS - 1);
    assertThat(almost.keepWarmFor()).as("too few gaps to learn from").isEqualTo(minutes(8));
  }

  @Test
  void staysWarmJustLongEnoughToCoverShortGaps() {
    KeepWarmPolicy learned = singles(Adaptive.initial(BILL_ONLY), minutes(3), 10);
    assertThat(learned.keepWarmFor()).isEqualTo(minutes(3));
  }

  @Test
  void stopsAsSoonAsAllowedWhenGapsAreLongerThanTheBreakEven() {
    KeepWarmPolicy learned = singles(Adaptive.initial(BILL_ONLY), Duration.ofHours(2), 10);
    assertThat(learned.keepWarmFor()).as("the lower bound, min").isEqualTo(minutes(1));
  }

  @Test
  void neverStaysWarmLongerThanMaxWhateverTheGaps() {
    KeepWarmSettings pricey = new KeepWarmSettings(KeepWarmSettings.Policy.ADAPTIVE, minutes(60), 0.0, minutes(1),
        minutes(20), 10);
    assertThat(Adaptive.initial(pricey).keepWarmFor()).as("the break-even rule, capped").isEqualTo(minutes(20));
    // Covering 40-min gaps would be cheaper than stopping for them, but max forbids it, and a timeout that stops
    // anyway is dearest when long.
    KeepWarmPolicy learned = singles(Adaptive.initial(pricey), minutes(40), 10);
    assertThat(learned.keepWarmFor()).isEqualTo(minutes(1));
  }

  @Test
  void forgetsGapsOlderThanItsWindow() {
    KeepWarmPolicy policy = singles(Adaptive.initial(BILL_ONLY), minutes(3), 10);
    policy = singles(policy, Duration.ofHours(2), 10); // the window is 10: the short gaps are gone
    assertThat(((Adaptive) policy).gaps()).hasSize(10).allMatch(g -> g.length().equals(Duration.ofHours(2)));
    assertThat(policy.keepWarmFor()).isEqualTo(minutes(1));
  }

  @Test
  void burstsMakeStoppingDearerWhenTheJobsWaitIsPriced() {
    // Gaps of 12 min: longer than the 8-min break-even, so with only the bill counting it stops early.
    KeepWarmSettings priced = new KeepWarmSettings(KeepWarmSettings.Policy.ADAPTIVE, minutes(8), 1.0, minutes(1),
        minutes(30), 10);
    KeepWarmPolicy billOnly = Adaptive.initial(BILL_ONLY);
    KeepWarmPolicy withWait = Adaptive.initial(priced);
    Instant at = T0;
    for (int burst = 0; burst < 10; burst++) {
      at = at.plus(minutes(12));
      billOnly = billOnly.jobArrived(at, minutes(12));
      withWait = withWait.jobArrived(at, minutes(12));
      for (int job = 1; job <= 4; job++) { // four more jobs a minute apart, while a cold start would still run
        billOnly = billOnly.jobArrived(at.plus(minutes(job)), null);
        withWait = withWait.jobArrived(at.plus(minutes(job)), null);
      }
      at = at.plus(minutes(4));
    }
    assertThat(billOnly.keepWarmFor()).isEqualTo(minutes(1));
    assertThat(withWait.keepWarmFor()).as("covers the 12-min gaps").isEqualTo(minutes(12));
    // What stopping would have cost the burst: 8 + 7 + 6 + 5 + 4 minutes of waiting.
    assertThat(((Adaptive) withWait).gaps().get(9).waitIfCold()).isEqualTo(minutes(30));
  }

  @Test
  void jobsOfABusyEndpointLeaveTheLearnedGapsAlone() {
    KeepWarmPolicy policy = singles(Adaptive.initial(BILL_ONLY), minutes(3), 6);
    KeepWarmPolicy later = policy.jobArrived(T0.plus(Duration.ofHours(5)), null);
    assertThat(later).isEqualTo(policy);
  }
}
