package warmgate.bench.buffered;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import warmgate.bench.JitSettle;
import warmgate.bench.JournalWrites;
import warmgate.bench.Report;
import warmgate.bench.buffered.BufferedNode.Journal;

/**
 * Drain (docs/benchmarks.md, section 3): thousands of buffered jobs through a warm endpoint whose model does no
 * work, end to end: each job reads its two inputs from the bucket, calls the model, writes its output, and stores
 * every event (AttemptStarted, JobSucceeded; JobSubmitted and JobQueued were stored while buffering). Jobs per
 * second from the first invocation to the last {@code JobSucceeded} stored, on H2 and on PostgreSQL, at a few
 * {@code max-concurrency} values; beside it, in the same JVM, the same work without Warmgate ({@link DirectCall}).
 */
public final class DrainBenchmark {
  /** A setting left to the node's own configuration. */
  private static final String DEFAULT = "default";

  private static final String HELP = """
      usage: bench/run drain [--jobs N] [--concurrency N,N,...] [--journal h2,postgres] [--writes batched,plugin]
                             [--warmup S] [--jit-settle S] [--trials N] [--input-bytes N] [--park-after LIST]
                             [--park-at-once LIST] [--model-ms N] [--quick]
        --jobs N            jobs buffered, then drained, per trial (default 10000)
        --concurrency LIST  the endpoint's max-concurrency values to measure (default 16,64,256)
        --journal LIST      h2 (a file in a temporary folder), postgres (a fresh database at 127.0.0.1:5432, dropped
                            afterwards), or both (default h2,postgres)
        --writes LIST       the journal's writes: batched (Warmgate's DAO, as shipped), plugin (pekko-persistence-jdbc's
                            own, one INSERT per event), or both in turn (default batched)
        --warmup S          drains of --jobs jobs on each node, unrecorded, until S seconds have passed (default 120:
                            on two cores the JIT compiles the hot paths for about two minutes)
        --jit-settle S      after --warmup, warm-up drains go on while the JIT compiled for 5 % or more of the last
                            one, S seconds more at most (default 300; 0: none)
        --trials N          recorded drains per row on the same node; the table gives their median and range
                            (default 3)
        --input-bytes N     size of each of a job's two inputs (default 1024)
        --park-after LIST   warmgate.request.park-after of the node, one drain each (default 60s, the shipped value:
                            no job parks while buffering); with 30s or less the drain starts once every job has
                            parked, so each grant wakes its job from the journal
        --park-at-once LIST warmgate.request.park-at-once of the node (on, off), one drain each; default: the
                            node's own (on since issue 19; a build from before it has no such setting and keeps
                            queued jobs in memory for park-after)
        --model-ms N        the model answers each call N ms after it (default 0: at once, so the drain measures
                            Warmgate's own cost); with a latency, what a slot waits for is mostly the model, as
                            with a real one
        --quick             --jobs 2000 --concurrency 64 --journal h2 --warmup 10 --jit-settle 0 --trials 1""";

  public static void main(String[] args) throws Exception {
    BufferedNode.useProductionLogging();
    int jobs = 10_000;
    List<Integer> concurrencies = List.of(16, 64, 256);
    List<Journal> journals = List.of(Journal.H2, Journal.POSTGRES);
    int inputBytes = 1024;
    List<String> parkAfters = List.of("60s");
    List<String> parkAtOnces = List.of(DEFAULT);
    List<JournalWrites> writes = List.of(JournalWrites.BATCHED);
    int warmupSeconds = 120;
    int jitSettle = 300;
    int trials = 3;
    long modelMillis = 0;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--jobs" -> jobs = Integer.parseInt(args[++i]);
        case "--concurrency" -> concurrencies = Arrays.stream(args[++i].split(",")).map(Integer::parseInt).toList();
        case "--journal" -> journals = Arrays.stream(args[++i].split(",")).map(j ->
            Journal.valueOf(j.toUpperCase(Locale.ROOT))).toList();
        case "--input-bytes" -> inputBytes = Integer.parseInt(args[++i]);
        case "--park-after" -> parkAfters = List.of(args[++i].split(","));
        case "--park-at-once" -> parkAtOnces = List.of(args[++i].split(","));
        case "--writes" -> writes = JournalWrites.parse(args[++i]);
        case "--warmup" -> warmupSeconds = Integer.parseInt(args[++i]);
        case "--jit-settle" -> jitSettle = Integer.parseInt(args[++i]);
        case "--trials" -> trials = Integer.parseInt(args[++i]);
        case "--model-ms" -> modelMillis = Long.parseLong(args[++i]);
        case "--quick" -> {
          jobs = 2000;
          concurrencies = List.of(64);
          journals = List.of(Journal.H2);
          warmupSeconds = 10;
          jitSettle = 0;
          trials = 1;
        }
        case "--help", "-h" -> {
          System.out.println(HELP);
          return;
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i] + "\n" + HELP);
      }
    }

    Report report = new Report("drain", "journal", "writes", "max-concurrency", "park-after", "park-at-once", "jobs",
        "trials",
        "Warmgate jobs/s, median", "trials' range", "direct jobs/s", "Warmgate µs/job", "direct µs/job",
            "overhead µs/job",
        "journal writes/job", "mean write ms", "max-concurrency / mean write jobs/s");
    DirectCall direct = new DirectCall(jobs, inputBytes, modelMillis);
    for (Journal journal : journals) {
      for (JournalWrites write : writes) {
        for (int concurrency : concurrencies) {
          for (String parkAfter : parkAfters) {
            for (String parkAtOnce : parkAtOnces) {
              String row = String.format(Locale.ROOT,
                  "%s, %s writes, max-concurrency %d, park-after %s, park-at-once %s", journal, write.label(),
                  concurrency, parkAfter, parkAtOnce);
              List<Drained> drains = drain(row, journal, write, concurrency, parkAfter, parkAtOnce, jobs, inputBytes,
                  warmupSeconds, jitSettle, trials, modelMillis);
              Drained median = drains.stream().sorted(Comparator.comparingDouble(Drained::rate)).toList()
                  .get(drains.size() / 2);
              double min = drains.stream().mapToDouble(Drained::rate).min().orElseThrow();
              double max = drains.stream().mapToDouble(Drained::rate).max().orElseThrow();
              double baseline = direct.rate(concurrency);
              double perJob = 1e6 / median.rate();
              double perDirect = 1e6 / baseline;
              report.row(journal.name().toLowerCase(Locale.ROOT), write.label(), concurrency, parkAfter, parkAtOnce,
                  jobs, trials,
                  fmt(median.rate()),
                  fmt(min) + "–" + fmt(max), fmt(baseline), fmt(perJob), String.format(Locale.ROOT, "%.2f", perDirect),
                  fmt(perJob - perDirect), String.format(Locale.ROOT, "%.2f", median.writesPerJob()),
                  String.format(Locale.ROOT, "%.1f", median.meanWriteMillis()),
                      fmt(concurrency / (median.meanWriteMillis() / 1000)));
              System.err.printf(Locale.ROOT, "%s: median %.0f jobs/s (%.0f–%.0f; direct %.0f jobs/s)%n", row,
                  median.rate(), min, max, baseline);
            }
          }
        }
      }
    }
    report.note("One in-process node per row, in-memory bucket (two " + inputBytes
        + "-byte inputs per job), a model that answers "
        + (modelMillis == 0 ? "at once" : modelMillis + " ms after each call")
        + ", read side running; every setting Warmgate's default but max-concurrency, park-after and park-at-once. "
            + "Each trial buffers "
        + jobs + " jobs on the starting endpoint, waits until the job index lists them (they would have buffered for"
            + " minutes), "
        + "then puts the endpoint in service; the rate is from the first invocation to the last JobSucceeded stored."
            + " Before "
        + "the trials the node drains the same number of jobs, unrecorded, for " + warmupSeconds
            + " s, and on (" + jitSettle + " s more at most) while the JIT compiled for 5 % or more of the last "
        + "drain, so it has compiled what runs. PostgreSQL gets ANALYZE every 15 s, as autovacuum would (this "
        + "machine's server runs without it). "
        + "direct: InferenceStep.run in a loop on the same kind of bucket and model, the same number of calls in "
            + "flight, no "
        + "entity, journal or lifecycle (second of two passes). overhead = 1/Warmgate rate - 1/direct rate, at the "
            + "median. "
        + "Journal writes: the Request entities' (warmgate_journal_write_seconds) from the flip to the end of the "
            + "median "
        + "trial; a slot waits for one of them per job (AttemptStarted, before the call; JobSucceeded is written after "
            + "the "
        + "slot went back), so max-concurrency / mean write is the rate the journal's latency alone allows.");
    report.publish();
  }

  /** @param meanWriteMillis mean time a Request entity waited for the journal to store an event during the drain */
  private record Drained(double rate, double writesPerJob, double meanWriteMillis) {}

  /**
   * Warm-up drains for {@code warmupSeconds}, and on while the JIT is busy (at most {@code jitSettle} s more), then
   * {@code trials} recorded ones, all on one node.
   */
  private static List<Drained> drain(String row, Journal journal, JournalWrites write, int concurrency,
      String parkAfter, String parkAtOnce, int jobs,
      int inputBytes, int warmupSeconds, int jitSettle, int trials, long modelMillis) throws Exception {
    boolean parks = Duration.parse("PT" + parkAfter.toUpperCase(Locale.ROOT)).compareTo(Duration.ofSeconds(30)) <= 0
        && !parkAfter.matches("0+[a-z]*");
    Map<String, Object> settings = new HashMap<>(Map.of("warmgate.endpoint-defaults.max-concurrency", concurrency,
        "warmgate.request.park-after", parkAfter));
    if (!parkAtOnce.equals(DEFAULT)) {
      settings.put("warmgate.request.park-at-once", parkAtOnce);
    }
    write.applyTo(settings);
    try (var node = new BufferedNode(journal, settings, true, inputBytes)) {
      node.model.latencyMillis = modelMillis;
      long warmFrom = System.nanoTime();
      long warmUntil = warmFrom + Duration.ofSeconds(warmupSeconds).toNanos();
      long settleUntil = warmUntil + Duration.ofSeconds(jitSettle).toNanos();
      JitSettle jit = new JitSettle();
      int warmups = 0;
      double jitShare;
      do {
        JitSettle.Since since = jit.mark();
        Drained warm = drainOnce(node, warmups == 0 ? Math.min(1000, jobs) : jobs, parks);
        jitShare = since.share();
        System.err.printf(Locale.ROOT, "%s: warm-up drain %d, %.0f jobs/s, the JIT compiling %.0f %% of it%n", row,
            ++warmups, warm.rate(), 100 * jitShare);
      } while (System.nanoTime() < warmUntil
          || jitShare >= JitSettle.QUIET_SHARE && System.nanoTime() < settleUntil);
      System.err.printf(Locale.ROOT, "%s: %d warm-up drains in %.0f s%n", row, warmups,
          (System.nanoTime() - warmFrom) / 1e9);
      List<Drained> drains = new ArrayList<>();
      for (int trial = 1; trial <= trials; trial++) {
        Drained drained = drainOnce(node, jobs, parks);
        System.err.printf(Locale.ROOT, "%s: trial %d, %.0f jobs/s%n", row, trial, drained.rate());
        drains.add(drained);
      }
      return drains;
    }
  }

  private static Drained drainOnce(BufferedNode node, int count, boolean parks) throws Exception {
    node.buffer(count);
    if (parks) {
      node.awaitParked();
    }
    double[] before = node.requestJournalWrites();
    node.flip();
    long end = node.awaitAllSucceeded(Duration.ofMinutes(20));
    long first = node.model.firstAt.get();
    double[] after = node.requestJournalWrites();
    node.awaitCold();
    double writes = after[0] - before[0];
    return new Drained(count / ((end - first) / 1e9), writes / count, 1000 * (after[1] - before[1]) / writes);
  }

  private static String fmt(double value) {
    return String.format(Locale.ROOT, "%.0f", value);
  }
}
