package warmgate.bench.cost;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import warmgate.bench.Latencies;
import warmgate.bench.Report;
import warmgate.config.KeepWarmSettings;
import warmgate.endpoint.KeepWarmPolicy;

/**
 * Benchmark 6: what keeping an endpoint warm costs. Replays seeded bursty arrival traces through the endpoint
 * lifecycle on a simulated clock and compares, per trace, the keep-warm policies with the offline optimum: billed
 * endpoint-time (the lifecycle's ledger), cold starts, the wait cold starts add to jobs, and the cost ratio to the
 * optimum. A second table runs the same traces as image uploads whose masks follow after a drawn delay, with and
 * without {@code warm-on-first-input}: time to result saved against billed time added. Deterministic for a given
 * seed. See docs/benchmarks.md, section 6.
 */
public final class CostSimulation {

  /** The simulation's parameters; {@link #parse} reads them from the command line. */
  record Options(long seed, int days, List<String> traces, List<Double> delayWeights, Duration coldStartMin,
      Duration coldStartMax, Duration stop, int concurrency, Duration breakEven, Duration min, Duration max,
          int window, Duration maskMedian, double maskSigma, double maskNever, Duration inputsTimeout,
          boolean warmUpOnly) {

    /** The adaptive policy's break-even: the option, else what the model bills for a stop and a start on average. */
    Duration adaptiveBreakEven() {
      return breakEven != null ? breakEven : stop.plus(coldStartMin.plus(coldStartMax).dividedBy(2));
    }

    /** The adaptive policy as an operator who knows the model and prices the jobs' wait as the run does. */
    KeepWarmSettings adaptive(double delayWeight) {
      return new KeepWarmSettings(KeepWarmSettings.Policy.ADAPTIVE, adaptiveBreakEven(), delayWeight, min, max, window);
    }
  }

  static final String HELP = """
      bench/run cost [options]   keep-warm policies against the offline optimum on simulated traces

        --days N              simulated days per trace (default 28; --quick: 7)
        --seed N              seed of the traces (default 1)
        --traces a,b          of office-hours, nightly-batch, heavy-tailed, steady (default all)
        --delay-weights w,..  price of one second of a job's wait in billed endpoint-seconds (default 0,0.25,1)
        --cold-start A-B      start duration, uniform between A and B (default 5m-10m, SageMaker's range)
        --stop D              how long a stop takes, billed (default 1m)
        --concurrency N       slots of the endpoint (default 2, max-concurrency's default)
        --break-even D        the adaptive policy's break-even (default: stop + mean start)
        --min D, --max D      the adaptive policy's bounds (default 2m, 30m)
        --window N            idle gaps the adaptive policy learns from (default 50)
        --mask-delay D        warm-up table: median delay of a mask after its image (default 20s)
        --mask-sigma S        warm-up table: sigma of the log-normal mask delay (default 1.0)
        --mask-never F        warm-up table: share of images whose mask never comes (default 0.01)
        --inputs-timeout D    warm-up table: a mask later than this counts as never (default 10m)
        --warm-up-only        only the warm-on-first-input table
        --quick               7 days
      Durations as 90s, 5m, 2h.
      """;

  public static void main(String[] args) {
    if (Arrays.asList(args).contains("--help")) {
      System.out.print(HELP);
      return;
    }
    Options o = parse(args);
    if (!o.warmUpOnly()) {
      long began = System.nanoTime();
      Report report = report(o);
      report.note(String.format(Locale.ROOT, "Simulated in %.1f s of wall time.", (System.nanoTime() - began) / 1e9));
      report.publish();
    }
    long began = System.nanoTime();
    Report warmUp = warmUpReport(o);
    warmUp.note(String.format(Locale.ROOT, "Simulated in %.1f s of wall time.", (System.nanoTime() - began) / 1e9));
    warmUp.publish();
  }

  static Options parse(String[] args) {
    long seed = 1;
    int days = 28;
    List<String> traces = TraceShapes.NAMES;
    List<Double> weights = List.of(0.0, 0.25, 1.0);
    Duration startMin = Duration.ofMinutes(5);
    Duration startMax = Duration.ofMinutes(10);
    Duration stop = Duration.ofMinutes(1);
    int concurrency = 2;
    Duration breakEven = null;
    Duration min = Duration.ofMinutes(2);
    Duration max = Duration.ofMinutes(30);
    int window = 50;
    Duration maskMedian = Duration.ofSeconds(20);
    double maskSigma = 1.0;
    double maskNever = 0.01;
    Duration inputsTimeout = Duration.ofMinutes(10);
    boolean warmUpOnly = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--quick" -> days = 7;
        case "--days" -> days = Integer.parseInt(args[++i]);
        case "--seed" -> seed = Long.parseLong(args[++i]);
        case "--traces" -> traces = List.of(args[++i].split(","));
        case "--delay-weights" -> weights = Arrays.stream(args[++i].split(",")).map(Double::valueOf).toList();
        case "--cold-start" -> {
          String[] range = args[++i].split("-");
          startMin = duration(range[0]);
          startMax = duration(range[range.length - 1]);
        }
        case "--stop" -> stop = duration(args[++i]);
        case "--concurrency" -> concurrency = Integer.parseInt(args[++i]);
        case "--break-even" -> breakEven = duration(args[++i]);
        case "--min" -> min = duration(args[++i]);
        case "--max" -> max = duration(args[++i]);
        case "--window" -> window = Integer.parseInt(args[++i]);
        case "--mask-delay" -> maskMedian = duration(args[++i]);
        case "--mask-sigma" -> maskSigma = Double.parseDouble(args[++i]);
        case "--mask-never" -> maskNever = Double.parseDouble(args[++i]);
        case "--inputs-timeout" -> inputsTimeout = duration(args[++i]);
        case "--warm-up-only" -> warmUpOnly = true;
        default -> throw new IllegalArgumentException("unknown option " + a + "\n" + HELP);
      }
    }
    return new Options(seed, days, traces, weights, startMin, startMax, stop, concurrency, breakEven, min, max, window,
        maskMedian, maskSigma, maskNever, inputsTimeout, warmUpOnly);
  }

  static Duration duration(String s) {
    return com.typesafe.config.ConfigFactory.parseString("d = " + s).getDuration("d");
  }

  /** Every policy on one trace at one delay weight, the optimum first. */
  static List<Outcome> compare(Trace trace, Options o, double delayWeight) {
    long stop = o.stop().toMillis();
    List<Outcome> outcomes = new ArrayList<>();
    outcomes.add(new OfflineOptimum(trace, o.concurrency(), stop, delayWeight).run());
    outcomes.add(KeepWarmRun.run("fixed 10 min (seed design)", new KeepWarmPolicy.Fixed(Duration.ofMinutes(10)), trace,
        o.concurrency(), stop, delayWeight));
    outcomes.add(KeepWarmRun.run("fixed 2 min (idle-timeout default)", new KeepWarmPolicy.Fixed(Duration.ofMinutes(2)),
        trace,
        o.concurrency(), stop, delayWeight));
    outcomes.add(KeepWarmRun.run("adaptive", KeepWarmPolicy.Adaptive.initial(o.adaptive(delayWeight)), trace,
        o.concurrency(), stop, delayWeight));
    return outcomes;
  }

  /** Each job's wait with an endpoint that is warm from the start and never stops: what queueing alone costs. */
  static long[] warmWaits(Trace trace, int concurrency) {
    LifecycleSimulator sim = LifecycleSimulator.warmIdle(trace, concurrency, 0, 0, 0);
    sim.keepWarmFor(LifecycleSimulator.FOREVER);
    while (sim.runToIdle()) {
      sim.keepWarmFor(sim.traceOver() ? 0 : LifecycleSimulator.FOREVER);
    }
    return sim.waits();
  }

  static Report report(Options o) {
    Report report = new Report("cost", "trace", "w", "policy", "billed h", "cold starts", "added wait h",
        "p99 added wait min", "cost h", "cost / optimum", "billed / optimum's");
    TraceShapes shapes = new TraceShapes(o.seed(), o.days(), o.coldStartMin(), o.coldStartMax());
    List<String> shapesSeen = new ArrayList<>();
    for (String name : o.traces()) {
      Trace trace = shapes.trace(name);
      shapesSeen.add(String.format(Locale.ROOT, "%s (%d jobs): %s", name, trace.jobs(), trace.shape()));
      long[] warm = warmWaits(trace, o.concurrency());
      for (double w : o.delayWeights()) {
        List<Outcome> outcomes = compare(trace, o, w);
        Outcome opt = outcomes.get(0);
        for (Outcome out : outcomes) {
          Latencies added = new Latencies();
          long addedTotal = 0;
          for (int j = 0; j < trace.jobs(); j++) {
            long extra = Math.max(0, out.waits()[j] - warm[j]);
            added.record(extra * 1_000_000);
            addedTotal += extra;
          }
          String p99 = trace.jobs() == 0 ? "-" : String.format(Locale.ROOT, "%.1f", added.percentile(0.99) / 60e9);
          report.row(name, fmt(w), out.policy(), hours(out.billedMillis()), out.coldStarts(), hours(addedTotal), p99,
              hours(out.cost()), ratio(out.cost(), opt.cost()), ratio(out.billedMillis(), opt.billedMillis()));
        }
      }
    }
    report.note(String.format(Locale.ROOT,
        "%d simulated days per trace, seed %d; start %s-%s (uniform), stop %s (billed), "
            + "service 10-40 s per job (uniform), %d slots.", o.days(), o.seed(), o.coldStartMin(), o.coldStartMax(),
                o.stop(),
        o.concurrency()));
    for (double w : o.delayWeights()) {
      KeepWarmSettings a = o.adaptive(w);
      report.note(String.format(Locale.ROOT, "w = %s: cost = billed + w x every job's wait; adaptive break-even %s, "
          + "delay-weight %s, min %s, max %s, window %d.", fmt(w), a.breakEven(), fmt(w), a.min(), a.max(),
              a.window()));
    }
    report.note("Added wait: a job's wait beyond what it waits behind other jobs on an endpoint that never stops.");
    shapesSeen.forEach(report::note);
    return report;
  }

  /** The keep-warm policies the warm-up table runs: our default, and the adaptive one pricing a wait like the bill. */
  static List<Policy> warmUpPolicies(Options o) {
    return List.of(
        new Policy("fixed 2 min (idle-timeout default)", new KeepWarmPolicy.Fixed(Duration.ofMinutes(2))),
        new Policy("adaptive, w = 1", KeepWarmPolicy.Adaptive.initial(o.adaptive(1.0))));
  }

  record Policy(String name, KeepWarmPolicy initial) {}

  /**
   * The same uploads with {@code warm-on-first-input} off and on, per trace and policy: billed time, cold starts,
   * and each job's time to result (image arrival to inference end), its p50 and p99, and what the option saves.
   */
  static Report warmUpReport(Options o) {
    Report report = new Report("cost-warm-up", "trace", "keep-warm", "jobs", "masks never came", "billed h off",
        "billed h on", "billed added h", "billed added", "cold starts off", "cold starts on",
        "p50 time to result off s", "p50 on s", "p50 saved s", "p99 time to result off min", "p99 on min",
        "p99 saved s", "mean saved s");
    TraceShapes shapes = new TraceShapes(o.seed(), o.days(), o.coldStartMin(), o.coldStartMax());
    long stop = o.stop().toMillis();
    String delays = null;
    for (String name : o.traces()) {
      MaskedTrace uploads = MaskedTrace.draw(shapes.trace(name), o.seed(), o.maskMedian(), o.maskSigma(),
          o.maskNever(), o.inputsTimeout());
      delays = uploads.delayShape();
      for (Policy policy : warmUpPolicies(o)) {
        WarmUpRun off = WarmUpRun.run(policy.initial(), uploads, false, o.concurrency(), stop);
        WarmUpRun on = WarmUpRun.run(policy.initial(), uploads, true, o.concurrency(), stop);
        Latencies offTimes = latencies(off.timeToResult());
        Latencies onTimes = latencies(on.timeToResult());
        long saved = 0;
        for (int j = 0; j < off.timeToResult().length; j++) {
          saved += off.timeToResult()[j] - on.timeToResult()[j];
        }
        int jobs = off.timeToResult().length;
        double p50Off = offTimes.percentile(0.5) / 1e9;
        double p50On = onTimes.percentile(0.5) / 1e9;
        double p99Off = offTimes.percentile(0.99) / 1e9;
        double p99On = onTimes.percentile(0.99) / 1e9;
        report.row(name, policy.name(), jobs, uploads.orphans(), hours(off.billedMillis()), hours(on.billedMillis()),
            hours(on.billedMillis() - off.billedMillis()),
            String.format(Locale.ROOT, "%+.1f%%", 100.0 * (on.billedMillis() - off.billedMillis())
                / Math.max(1, off.billedMillis())),
            off.coldStarts(), on.coldStarts(),
            String.format(Locale.ROOT, "%.0f", p50Off), String.format(Locale.ROOT, "%.0f", p50On),
            String.format(Locale.ROOT, "%.0f", p50Off - p50On),
            String.format(Locale.ROOT, "%.1f", p99Off / 60), String.format(Locale.ROOT, "%.1f", p99On / 60),
            String.format(Locale.ROOT, "%.0f", p99Off - p99On),
            jobs == 0 ? "-" : String.format(Locale.ROOT, "%.1f", saved / 1000.0 / jobs));
      }
    }
    report.note(String.format(Locale.ROOT,
        "%d simulated days per trace, seed %d; start %s-%s (uniform), stop %s (billed), service 10-40 s per job "
            + "(uniform), %d slots. The trace's arrivals are the images; %s. A job asks for a slot when its mask is "
            + "there; with warm-on-first-input on, every image (its mask coming or not) also sends the endpoint one "
            + "warm-up hint: a cold endpoint starts, a warm idle one counts its idle time from the hint.",
        o.days(), o.seed(), o.coldStartMin(), o.coldStartMax(), o.stop(), o.concurrency(), delays));
    report.note("Time to result: from the image's arrival to the end of the job's inference (jobs whose mask came). "
        + "Saved: off minus on, per percentile and on average over the same jobs. Billed: the lifecycle's ledger.");
    return report;
  }

  private static Latencies latencies(long[] millis) {
    Latencies l = new Latencies();
    for (long m : millis) {
      l.record(m * 1_000_000);
    }
    return l;
  }

  private static String hours(double millis) {
    return String.format(Locale.ROOT, "%.1f", millis / 3_600_000.0);
  }

  private static String ratio(double a, double b) {
    return b == 0 ? "-" : String.format(Locale.ROOT, "%.2f", a / b);
  }

  private static String fmt(double w) {
    return w == Math.rint(w) ? String.valueOf((long) w) : String.valueOf(w);
  }
}
