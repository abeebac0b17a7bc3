package warmgate.endpoint;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import warmgate.config.EndpointSettings;
import warmgate.config.KeepWarmSettings;

/**
 * How long a warm endpoint with nothing queued or running stays up before it is stopped. Pure and immutable: the
 * {@link EndpointLifecycle} asks {@link #keepWarmFor()} on its idle check and replaces the policy with
 * {@link #jobArrived} when a new job asks for a slot; the cost simulation (bench) calls the same two.
 *
 * <p>Each idle gap is a ski-rental choice: staying warm costs one billed second per second, stopping costs a cold
 * start (the billed stop and start, which the settings call {@code break-even}, plus the wait it causes the jobs).
 * Knowing the gap, the cheapest choice is to stay warm iff the gap costs less than the cold start.
 */
public sealed interface KeepWarmPolicy {

  /** How long to stay warm after the endpoint went idle. */
  Duration keepWarmFor();

  /**
   * The policy after a new job arrived at {@code at}; {@code idleGap} is how long the endpoint had been idle before
   * it (stopped meanwhile or not), or null when other jobs were queued or running, or the gap is unknown.
   */
  KeepWarmPolicy jobArrived(Instant at, Duration idleGap);

  /** A short account of the current choice, for the stop reason in the journal and the log. */
  String explain();

  static KeepWarmPolicy of(EndpointSettings settings) {
    return switch (settings.keepWarm().policy()) {
      case FIXED -> new Fixed(settings.idleTimeout());
      case ADAPTIVE -> Adaptive.initial(settings.keepWarm());
    };
  }

  /** Always the same idle timeout: the seed design (10 minutes) and our default ({@code idle-timeout}, 2 minutes). */
  record Fixed(Duration idleTimeout) implements KeepWarmPolicy {
    @Override
    public Duration keepWarmFor() {
      return idleTimeout;
    }

    @Override
    public KeepWarmPolicy jobArrived(Instant at, Duration idleGap) {
      return this;
    }

    @Override
    public String explain() {
      return "idle for " + idleTimeout.toSeconds() + " s";
    }
  }

  /**
   * One idle gap and what stopping for it would have cost in the jobs' wait: the job that ended the gap would have
   * waited a whole start (taken as {@code break-even}), and each one after it that much less.
   */
  record Gap(Duration length, Duration waitIfCold) {}

  /**
   * Stays warm for the timeout that would have cost least over the endpoint's last {@code window} idle gaps, within
   * {@code [min, max]}. A gap no longer than the timeout costs its length; a longer one costs the timeout, plus
   * {@code break-even} (the billed stop and start), plus the jobs' wait that the start would have caused, priced at
   * {@code delay-weight}. So bursts of many jobs make stopping dearer than single jobs do. Until {@link #MIN_GAPS}
   * gaps are known it stays warm for the break-even itself, the deterministic ski-rental rule.
   *
   * <p>Worst case for one gap, against the best choice in hindsight (stay warm iff the gap is shorter than B, the
   * whole price of stopping for it: break-even plus its priced wait): at most {@code max(1 + B/min, 1 + max/B)} times
   * as much (a gap just longer than a short
   * timeout τ costs τ + B where hindsight pays τ; a gap just longer than a long timeout τ > B costs τ + B where
   * hindsight pays B). That is what {@code min} and {@code max} are for: a badly predicted gap cannot cost
   * arbitrarily much.
   *
   * <p>The learned gaps are not persisted: after a restart the endpoint learns again from its next gaps, starting
   * from the break-even rule. A window of gaps is hours of traffic at most, and an old history after a long
   * outage would mislead more than help.
   *
   * @param gaps the latest idle gaps, oldest first, at most {@code settings.window()}
   * @param burstStart when the last gap ended, or null before the first
   * @param keepWarmFor the timeout chosen from {@code gaps}
   */
  record Adaptive(KeepWarmSettings settings, List<Gap> gaps, Instant burstStart, Duration keepWarmFor)
      implements KeepWarmPolicy {
    /** Gaps needed before the learned timeout replaces the break-even rule. */
    public static final int MIN_GAPS = 5;

    public Adaptive {
      gaps = List.copyOf(gaps);
    }

    public static Adaptive initial(KeepWarmSettings settings) {
      return new Adaptive(settings, List.of(), null, clamp(settings.breakEven(), settings));
    }

    @Override
    public Adaptive jobArrived(Instant at, Duration idleGap) {
      Duration horizon = settings.breakEven();
      if (idleGap != null && !idleGap.isNegative()) {
        List<Gap> latest = new ArrayList<>(gaps);
        latest.add(new Gap(idleGap, horizon));
        while (latest.size() > settings.window()) {
          latest.remove(0);
        }
        return new Adaptive(settings, latest, at, choose(latest, settings));
      }
      if (burstStart == null || gaps.isEmpty()) {
        return this;
      }
      Duration late = Duration.between(burstStart, at);
      if (late.isNegative() || late.compareTo(horizon) >= 0) {
        return this;
      }
      // This job would have waited for the rest of a start begun by the gap's last job.
      List<Gap> latest = new ArrayList<>(gaps);
      Gap last = latest.remove(latest.size() - 1);
      latest.add(new Gap(last.length(), last.waitIfCold().plus(horizon.minus(late))));
      return new Adaptive(settings, latest, burstStart, choose(latest, settings));
    }

    @Override
    public String explain() {
      return "idle for " + keepWarmFor.toSeconds() + " s, the keep-warm learned from " + gaps.size() + " gap(s)";
    }

    /** The candidate timeouts are the bounds, the break-even and each known gap (each clamped); ties go to the shorter.
     * */
    static Duration choose(List<Gap> gaps, KeepWarmSettings settings) {
      if (gaps.size() < MIN_GAPS) {
        return clamp(settings.breakEven(), settings);
      }
      int n = gaps.size();
      long[] length = new long[n];
      double[] stopCost = new double[n];
      for (int i = 0; i < n; i++) {
        length[i] = gaps.get(i).length().toMillis();
        stopCost[i] = settings.breakEven().toMillis() + settings.delayWeight() * gaps.get(i).waitIfCold().toMillis();
      }
      List<Long> candidates = new ArrayList<>();
      candidates.add(settings.min().toMillis());
      candidates.add(settings.max().toMillis());
      candidates.add(clamp(settings.breakEven(), settings).toMillis());
      for (long g : length) {
        candidates.add(clamp(Duration.ofMillis(g), settings).toMillis());
      }
      long best = -1;
      double bestCost = Double.MAX_VALUE;
      for (long timeout : candidates) {
        double cost = 0;
        for (int i = 0; i < n; i++) {
          cost += length[i] <= timeout ? length[i] : timeout + stopCost[i];
        }
        if (cost < bestCost || (cost == bestCost && timeout < best)) {
          best = timeout;
          bestCost = cost;
        }
      }
      return Duration.ofMillis(best);
    }

    private static Duration clamp(Duration d, KeepWarmSettings s) {
      return d.compareTo(s.min()) < 0 ? s.min() : d.compareTo(s.max()) > 0 ? s.max() : d;
    }
  }
}
