package warmgate.bench.cost;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Seeded bursty arrival traces. Every random draw comes from one {@link Random} per trace seeded from the run's
 * seed and the trace's name, so a trace is the same whatever other traces run beside it.
 *
 * <p>Per job, whatever the shape: a service time uniform in 10-40 s (a Gen3D inference), and the cold-start
 * duration if this job starts the endpoint, uniform in {@code coldStartMin}-{@code coldStartMax} (SageMaker takes
 * 5-10 minutes to come into service).
 */
public final class TraceShapes {
  static final long SECOND = 1000;
  static final long MINUTE = 60 * SECOND;
  static final long HOUR = 60 * MINUTE;
  static final long DAY = 24 * HOUR;

  public static final List<String> NAMES = List.of("office-hours", "nightly-batch", "heavy-tailed", "steady");

  private final long seed;
  private final int days;
  private final Duration coldStartMin;
  private final Duration coldStartMax;

  public TraceShapes(long seed, int days, Duration coldStartMin, Duration coldStartMax) {
    this.seed = seed;
    this.days = days;
    this.coldStartMin = coldStartMin;
    this.coldStartMax = coldStartMax;
  }

  public Trace trace(String name) {
    Random random = new Random(seed * 31 + name.hashCode());
    List<Long> arrivals = new ArrayList<>();
    String shape = switch (name) {
      case "office-hours" -> officeHours(random, arrivals);
      case "nightly-batch" -> nightlyBatch(random, arrivals);
      case "heavy-tailed" -> heavyTailed(random, arrivals);
      case "steady" -> steady(random, arrivals);
      default -> throw new IllegalArgumentException("unknown trace " + name + "; one of " + NAMES);
    };
    long[] at = arrivals.stream().mapToLong(Long::longValue).sorted().toArray();
    long[] service = new long[at.length];
    long[] coldStart = new long[at.length];
    for (int i = 0; i < at.length; i++) {
      service[i] = uniform(random, 10 * SECOND, 40 * SECOND);
      coldStart[i] = uniform(random, coldStartMin.toMillis(), coldStartMax.toMillis());
    }
    return new Trace(name, shape, at, service, coldStart);
  }

  /** Weekdays 09-18 h: bursts ~20 min apart (Poisson), each 1 + geometric(mean 4) jobs ~45 s apart; quiet otherwise. */
  private String officeHours(Random r, List<Long> out) {
    for (int day = 0; day < days; day++) {
      if (day % 7 >= 5) {
        continue;
      }
      long t = day * DAY + 9 * HOUR + exponential(r, 20 * MINUTE);
      while (t < day * DAY + 18 * HOUR) {
        burst(r, out, t, 1 + geometric(r, 4), 45 * SECOND);
        t += exponential(r, 20 * MINUTE);
      }
    }
    return "weekdays 09-18 h, bursts every ~20 min (Poisson) of 1 + geometric(mean 4) jobs ~45 s apart; nights and "
        + "weekends quiet";
  }

  /** Every night a batch of 40-120 jobs ~10 s apart starting 02:00-02:30, plus a few day-time jobs (~3 h apart). */
  private String nightlyBatch(Random r, List<Long> out) {
    for (int day = 0; day < days; day++) {
      burst(r, out, day * DAY + 2 * HOUR + uniform(r, 0, 30 * MINUTE), (int) uniform(r, 40, 121), 10 * SECOND);
      long t = day * DAY + 8 * HOUR + exponential(r, 3 * HOUR);
      while (t < day * DAY + 20 * HOUR) {
        out.add(t);
        t += exponential(r, 3 * HOUR);
      }
    }
    return "a nightly batch of 40-120 jobs ~10 s apart from 02:00-02:30, plus single jobs ~3 h apart (Poisson) 08-20 h";
  }

  /** Bursts of 1-3 jobs whose gaps are Pareto(x_min 1 min, alpha 1.1), capped at a day: mostly short, sometimes hours.
   * */
  private String heavyTailed(Random r, List<Long> out) {
    long t = 0;
    while (t < days * DAY) {
      burst(r, out, t, (int) uniform(r, 1, 4), 30 * SECOND);
      double pareto = MINUTE / Math.pow(1 - r.nextDouble(), 1 / 1.1);
      t += (long) Math.min(pareto, DAY);
    }
    return "bursts of 1-3 jobs ~30 s apart; gaps Pareto(x_min 1 min, alpha 1.1), capped at 24 h, around the clock";
  }

  /** Single jobs around the clock, exponential gaps with mean 8 min: the gaps straddle the break-even. */
  private String steady(Random r, List<Long> out) {
    long t = exponential(r, 8 * MINUTE);
    while (t < days * DAY) {
      out.add(t);
      t += exponential(r, 8 * MINUTE);
    }
    return "single jobs around the clock, Poisson with mean gap 8 min";
  }

  private static void burst(Random r, List<Long> out, long start, int jobs, long meanSpacing) {
    long t = start;
    for (int i = 0; i < jobs; i++) {
      out.add(t);
      t += exponential(r, meanSpacing);
    }
  }

  private static long exponential(Random r, long mean) {
    return (long) (-mean * Math.log(1 - r.nextDouble()));
  }

  /** At least 0; mean {@code mean}. */
  private static int geometric(Random r, double mean) {
    double p = 1 / (1 + mean);
    return (int) Math.floor(Math.log(1 - r.nextDouble()) / Math.log(1 - p));
  }

  private static long uniform(Random r, long from, long toExclusive) {
    return from + (long) (r.nextDouble() * (toExclusive - from));
  }
}
