package warmgate.bench.buffered;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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

  private static final String HELP = """
      usage: bench/run drain [--jobs N] [--concurrency N,N,...] [--journal h2,postgres] [--input-bytes N] [--quick]
        --jobs N            jobs buffered, then drained (default 10000)
        --concurrency LIST  the endpoint's max-concurrency values to measure (default 16,64,256)
        --journal LIST      h2 (a file in a temporary folder), postgres (a fresh database at 127.0.0.1:5432, dropped
                            afterwards), or both (default h2,postgres)
        --input-bytes N     size of each of a job's two inputs (default 1024)
        --park-after LIST   warmgate.request.park-after of the node, one drain each (default 60s, the shipped value:
                            no job parks while buffering); with 30s or less the drain starts once every job has
                            parked, so each grant wakes its job from the journal
        --quick             --jobs 2000 --concurrency 64 --journal h2""";

  public static void main(String[] args) throws Exception {
    BufferedNode.useProductionLogging();
    int jobs = 10_000;
    List<Integer> concurrencies = List.of(16, 64, 256);
    List<Journal> journals = List.of(Journal.H2, Journal.POSTGRES);
    int inputBytes = 1024;
    List<String> parkAfters = List.of("60s");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--jobs" -> jobs = Integer.parseInt(args[++i]);
        case "--concurrency" -> concurrencies = Arrays.stream(args[++i].split(",")).map(Integer::parseInt).toList();
        case "--journal" -> journals = Arrays.stream(args[++i].split(",")).map(j -> Journal.valueOf(j.toUpperCase(Locale.ROOT))).toList();
        case "--input-bytes" -> inputBytes = Integer.parseInt(args[++i]);
        case "--park-after" -> parkAfters = List.of(args[++i].split(","));
        case "--quick" -> {
          jobs = 2000;
          concurrencies = List.of(64);
          journals = List.of(Journal.H2);
        }
        case "--help", "-h" -> {
          System.out.println(HELP);
          return;
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i] + "\n" + HELP);
      }
    }

    Report report = new Report("drain", "journal", "max-concurrency", "park-after", "jobs", "Warmgate jobs/s", "direct jobs/s",
        "Warmgate µs/job", "direct µs/job", "overhead µs/job", "journal writes/job", "mean write ms", "max-concurrency / mean write jobs/s");
    List<String> lines = new ArrayList<>();
    DirectCall direct = new DirectCall(jobs, inputBytes);
    for (Journal journal : journals) {
      for (int concurrency : concurrencies) {
       for (String parkAfter : parkAfters) {
        Drained drained = drain(journal, concurrency, parkAfter, jobs, inputBytes);
        double warmgate = drained.rate();
        double baseline = direct.rate(concurrency);
        double perJob = 1e6 / warmgate;
        double perDirect = 1e6 / baseline;
        report.row(journal.name().toLowerCase(Locale.ROOT), concurrency, parkAfter, jobs, fmt(warmgate), fmt(baseline), fmt(perJob),
            String.format(Locale.ROOT, "%.2f", perDirect), fmt(perJob - perDirect),
            String.format(Locale.ROOT, "%.2f", drained.writesPerJob()), String.format(Locale.ROOT, "%.1f", drained.meanWriteMillis()),
            fmt(concurrency / (drained.meanWriteMillis() / 1000)));
        String line = String.format(Locale.ROOT, "%s, max-concurrency %d, park-after %s: %.0f jobs/s (direct %.0f jobs/s)", journal,
            concurrency, parkAfter, warmgate, baseline);
        lines.add(line);
        System.err.println(line);
       }
      }
    }
    report.note("One in-process node, in-memory bucket (two " + inputBytes + "-byte inputs per job), a model that answers at once, "
        + "read side running; every setting Warmgate's default but max-concurrency. Warmgate: " + jobs + " jobs buffered on "
        + "the starting endpoint, then it comes into service; from the first invocation to the last JobSucceeded stored "
        + "(one unrecorded warm-up drain of 1000 jobs on the same node first). direct: InferenceStep.run in a loop on the same "
        + "kind of bucket and model, the same number of calls in flight, no entity, journal or lifecycle (second of two passes). "
        + "overhead = 1/Warmgate rate - 1/direct rate. Journal writes: the Request entities' (warmgate_journal_write_seconds) "
        + "from the flip to the end; a slot waits for one of them per job (AttemptStarted, before the call; JobSucceeded is "
        + "written after the slot went back), so max-concurrency / mean write is the rate the journal's latency alone allows.");
    report.publish();
  }

  /** @param meanWriteMillis mean time a Request entity waited for the journal to store an event during the drain */
  private record Drained(double rate, double writesPerJob, double meanWriteMillis) {}

  private static Drained drain(Journal journal, int concurrency, String parkAfter, int jobs, int inputBytes) throws Exception {
    boolean parks = Duration.parse("PT" + parkAfter.toUpperCase(Locale.ROOT)).compareTo(Duration.ofSeconds(30)) <= 0
        && !parkAfter.matches("0+[a-z]*");
    try (var node = new BufferedNode(journal, Map.of("warmgate.endpoint-defaults.max-concurrency", concurrency,
        "warmgate.request.park-after", parkAfter), true, inputBytes)) {
      for (int round = 0; round < 2; round++) {
        int count = round == 0 ? Math.min(1000, jobs) : jobs; // round 0 warms the JVM and the journal up
        node.buffer(count);
        if (parks) {
          node.awaitParked();
        }
        double[] before = node.requestJournalWrites();
        node.flip();
        long end = node.awaitAllSucceeded(Duration.ofMinutes(20));
        long first = node.model.firstAt.get();
        double[] after = node.requestJournalWrites();
        if (round == 1) {
          double writes = after[0] - before[0];
          return new Drained(count / ((end - first) / 1e9), writes / count, 1000 * (after[1] - before[1]) / writes);
        }
        node.awaitCold();
      }
      throw new AssertionError("unreachable");
    }
  }

  private static String fmt(double value) {
    return String.format(Locale.ROOT, "%.0f", value);
  }
}
