package warmgate.bench.buffered;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import warmgate.bench.JournalWrites;
import warmgate.bench.Latencies;
import warmgate.bench.Report;
import warmgate.bench.buffered.BufferedNode.Journal;

/**
 * Warm → dispatch (docs/benchmarks.md, section 2): from the provider reporting the endpoint in service to the
 * first buffered job's invocation beginning, with thousands of jobs buffered. Split in two: the poll (until the
 * lifecycle's describe first answers IN_SERVICE) and the dispatch (from there to the first invocation: the
 * CameIntoService write, the grants, the job's AttemptStarted write, the input reads).
 *
 * <p>Each trial buffers the jobs on a cold endpoint (the first job starts it; the fake provider holds it in
 * CREATING), waits a random fraction of a second so the flip falls anywhere in the lifecycle's poll cycle, flips
 * the provider to IN_SERVICE, and, once the first invocation is seen, lets the node drain every job and the
 * endpoint go cold again before the next trial. One node per variant; unrecorded warm-up trials first, for
 * {@code --warmup} seconds, so that what is timed runs compiled.
 */
public final class WarmDispatchBenchmark {

  private static final String HELP = """
      usage: bench/run dispatch [--jobs N] [--trials N] [--warmup S] [--push on|off|both] [--concurrency N]
                                [--writes batched,plugin] [--quick]
        --jobs N          jobs buffered before the endpoint comes into service (default 10000); a row with 1 job
                          buffered is measured beside it
        --trials N        recorded trials per row (default 10); p99 of so few trials is their maximum
        --warmup S        unrecorded trials on each row's node until S seconds have passed (default 120: on two
                          cores the JIT compiles the hot paths for about two minutes)
        --push MODE       off: the lifecycle learns of the flip only by polling (status-poll-interval 1s);
                          on: the provider also pushes the change (EndpointProvider.watch); both (default)
        --concurrency N   max-concurrency of the endpoint (default 16)
        --writes LIST     the journal's writes: batched (Warmgate's DAO, as shipped), plugin (pekko-persistence-jdbc's
                          own, one INSERT per event), or both, one node each (default batched)
        --quick           --jobs 1000 --trials 3 --warmup 10""";

  public static void main(String[] args) throws Exception {
    BufferedNode.useProductionLogging();
    int jobs = 10_000;
    int trials = 10;
    String push = "both";
    int concurrency = 16;
    int warmupSeconds = 120;
    List<JournalWrites> writes = List.of(JournalWrites.BATCHED);
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--jobs" -> jobs = Integer.parseInt(args[++i]);
        case "--trials" -> trials = Integer.parseInt(args[++i]);
        case "--push" -> push = args[++i];
        case "--concurrency" -> concurrency = Integer.parseInt(args[++i]);
        case "--warmup" -> warmupSeconds = Integer.parseInt(args[++i]);
        case "--writes" -> writes = JournalWrites.parse(args[++i]);
        case "--quick" -> {
          jobs = 1000;
          trials = 3;
          warmupSeconds = 10;
        }
        case "--help", "-h" -> {
          System.out.println(HELP);
          return;
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i] + "\n" + HELP);
      }
    }
    List<Boolean> pushModes = switch (push) {
      case "off" -> List.of(false);
      case "on" -> List.of(true);
      case "both" -> List.of(false, true);
      default -> throw new IllegalArgumentException("--push is on, off or both, not " + push);
    };

    Report report = new Report("dispatch", "lifecycle learns of InService by", "writes", "jobs buffered", "trials",
        "poll p50 ms", "poll p99 ms", "dispatch p50 ms", "dispatch p99 ms", "flip → first job p50 ms",
            "flip → first job p99 ms");
    for (JournalWrites write : writes) {
      for (boolean pushOn : pushModes) {
        for (int buffered : List.of(1, jobs)) {
          Row row = measure(pushOn, write, buffered, trials, concurrency, warmupSeconds);
          report.row(pushOn ? "push (+ 1 s poll)" : "poll every 1 s", write.label(), buffered, trials,
              row.poll.millis(0.5), row.poll.millis(0.99), row.dispatch.millis(0.5), row.dispatch.millis(0.99),
              row.total.millis(0.5), row.total.millis(0.99));
          // Each row as soon as it is measured: a long run cut short still leaves the rows it finished.
          System.err.printf(Locale.ROOT, "push %s, %s writes, %d buffered: poll p50 %s / p99 %s ms, dispatch p50 %s "
              + "/ p99 %s ms, "
              + "total p50 %s / p99 %s ms%n", pushOn, write.label(), buffered, row.poll.millis(0.5),
                  row.poll.millis(0.99),
              row.dispatch.millis(0.5), row.dispatch.millis(0.99), row.total.millis(0.5), row.total.millis(0.99));
        }
      }
    }
    report.note("One in-process node, H2 journal, in-memory bucket, a fake provider held in CREATING until flipped, "
        + "a model "
        + "that answers at once; max-concurrency " + concurrency + ", every other setting Warmgate's default "
        + "(status-poll-interval 1s, acquire-interval 5s). poll: flip → the lifecycle's describe first answers "
            + "IN_SERVICE. "
        + "dispatch: from there → the first buffered job's invocation begins. Each trial waits until the job index "
            + "lists the "
        + "buffered jobs before the flip. Unrecorded trials for " + warmupSeconds
            + " s first on each row's node. p99 of "
        + trials + " trials is their maximum.");
    report.publish();
  }

  private record Row(Latencies poll, Latencies dispatch, Latencies total) {}

  private static Row measure(boolean push, JournalWrites write, int buffered, int trials, int concurrency,
      int warmupSeconds)
      throws Exception {
    Row row = new Row(new Latencies(), new Latencies(), new Latencies());
    Map<String, Object> settings = new HashMap<>(Map.of("warmgate.endpoint-defaults.max-concurrency", concurrency));
    write.applyTo(settings);
    try (var node = new BufferedNode(Journal.H2, settings, push, 1024)) {
      long warmUntil = System.nanoTime() + Duration.ofSeconds(warmupSeconds).toNanos();
      int warmups = 0;
      do {
        trial(node, warmups++ == 0 ? Math.min(buffered, 1000) : buffered);
      } while (System.nanoTime() < warmUntil);
      System.err.printf(Locale.ROOT, "push %s, %d buffered: %d warm-up trials%n", push, buffered, warmups);
      for (int trial = 0; trial < trials; trial++) {
        long[] s = trial(node, buffered);
        row.poll.record(Math.max(0, s[0]));
        row.dispatch.record(Math.max(0, s[1]));
        row.total.record(s[2]);
      }
    }
    return row;
  }

  /** One trial: {poll, dispatch, flip → first job} in nanoseconds. */
  private static long[] trial(BufferedNode node, int buffered) throws Exception {
    node.buffer(buffered);
    Thread.sleep(ThreadLocalRandom.current().nextLong(200, 1200));
    node.flip();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (node.model.firstAt.get() == 0) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no job ran within 60 s of the flip");
      }
      Thread.sleep(5); // the times come from the provider and the model, not from this loop
    }
    long flipped = node.provider.flippedAt.get();
    long seen = node.provider.seenAt.get();
    long first = node.model.firstAt.get();
    node.awaitAllSucceeded(Duration.ofMinutes(10));
    node.awaitCold();
    return new long[] {seen - flipped, first - seen, first - flipped};
  }
}
