package warmgate.bench.recovery;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import warmgate.bench.PlannerStatistics;
import warmgate.bench.Report;
import warmgate.bench.Sql;
import warmgate.e2e.Postgres;

/**
 * Benchmark 4: a node killed with SIGKILL while {@code --jobs} jobs wait for their endpoint, then started again.
 *
 * <p>The endpoint can never serve: its "model" is {@code sleep}, which never answers {@code /ping}, and its start
 * timeout is hours, so it stays STARTING and every job stays QUEUED, before and after the kill (the restarted node
 * adopts the same process from its pid file). A job counts as resumed when it is back in the endpoint's wait queue:
 * the waker found it QUEUED in the job index and enlisted it with the endpoint, which holds its place by id until
 * a slot wakes it (before parking, its entity recovered from the journal and asked again). The benchmark
 * reads that queue's depth from GET /v1/endpoints/gen3d every 100 ms and stops the clock when it reaches the number of
 * jobs. The same node, killed and restarted with no jobs, is the baseline.
 */
public final class RecoveryBenchmark {
  private static final Pattern WOKE = Pattern.compile(
      "Job waker \\(waker started\\): woke (\\d+) job\\(s\\) with work left and enlisted (\\d+) queued one\\(s\\) in"
          + " (\\d+) ms");

  record Options(int jobs, int concurrency, List<Integer> wakerRates, String heap, boolean skipBaseline,
      boolean durableFill, List<Boolean> archives, Path compareWith) {
    static Options parse(String[] args) {
      int jobs = 100_000;
      int concurrency = 32;
      List<Integer> rates = List.of(200, 2000);
      boolean durableFill = false;
      String heap = "2g";
      boolean skipBaseline = false;
      List<Boolean> archives = List.of(true);
      Path compareWith = null;
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--jobs" -> jobs = Integer.parseInt(args[++i]);
          case "--concurrency" -> concurrency = Integer.parseInt(args[++i]);
          case "--waker-rates" -> rates = java.util.Arrays.stream(args[++i].split(",")).map(Integer::parseInt).toList();
          case "--durable-fill" -> durableFill = true;
          case "--node-heap" -> heap = args[++i];
          case "--no-baseline" -> skipBaseline = true;
          case "--compare-with" -> compareWith = Path.of(args[++i]);
          case "--class-archive" -> archives = java.util.Arrays.stream(args[++i].split(",")).map(v -> switch (v) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new IllegalArgumentException("--class-archive takes on, off or both: " + v);
          }).toList();
          case "-h", "--help" -> {
            System.out.println("""
                bench/run recovery [--jobs N] [--waker-rates R,R..] [--concurrency C] [--node-heap 2g] [--no-baseline] \
                [--durable-fill] [--class-archive on,off] [--compare-with LIB]
                  --jobs N          jobs queued when the node is killed (default 100000; 5000 for a quick run)
                  --waker-rates R,R warmgate.read-side.waker.rate of the node, one kill and restart each (default 200,\
                2000)
                  --durable-fill    queue the jobs with synchronous_commit on (default: off while queueing only)
                  --concurrency C   job submissions in flight while queueing (default 32)
                  --node-heap       -Xmx of the node's JVM (default 2g)
                  --no-baseline     skip the kill and restart with no jobs
                  --class-archive L on: the restarts map a class data sharing archive of a start's classes, \
                recorded by `warmgate cds-training` as the image and bin/run do; off: none; on,off: one restart \
                each, side by side (default on; a build from before 2026-12-08 has no such command: off)
                  --compare-with LIB after each waker rate's restarts, one more of the same jobs by another build's \
                node (the jars of its bench/target/lib), class archive off: before and after on the same journal""");
            System.exit(0);
          }
          default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--help)");
        }
      }
      return new Options(jobs, concurrency, rates, heap, skipBaseline, durableFill, archives, compareWith);
    }
  }

  /** What one restart took, each from the launch of the JVM. */
  private record Restart(int jobs, int rate, boolean archive, String build, Duration httpReady, Duration resumed,
      Duration half, String wakerLine) {}

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args);
    Report report = new Report("recovery", "run", "build", "waker rate", "class archive", "jobs queued",
        "JVM launch → HTTP answers",
        "→ half resumed", "→ all resumed",
        "waker's own report");
    try (Postgres pg = new Postgres(); PlannerStatistics stats = PlannerStatistics.keepCurrent(pg,
        Duration.ofMinutes(1))) {
      Path dir = Files.createTempDirectory("warmgate-recovery");
      String settings = """
          warmgate.endpoints.gen3d.max-queued = %d
          warmgate.endpoints.gen3d.queue.owner-defaults.max-queued = %d
          warmgate.endpoints.gen3d.start-timeout = 6h
          warmgate.endpoints.gen3d.process.command = ["sleep", "21600"]
          """.formatted(Math.max(10_000, o.jobs() + 1000), Math.max(10_000, o.jobs() + 1000));
      try (BenchNode node = new BenchNode(dir, pg.url, Postgres.USER, settings, BenchNode.jvmOptions("-Xmx" + o.heap(),
          "-Dlogback.configurationFile=logback.xml"))) {
        Path archive = o.archives().contains(true) ? node.recordClassArchive() : null;
        Duration first = node.start();
        System.err.println("first start (empty database, schema created): " + first.toMillis() + " ms");
        List<Restart> restarts = new ArrayList<>();
        if (!o.skipBaseline()) {
          for (boolean withArchive : o.archives()) {
            node.kill9();
            node.useClassArchive(withArchive ? archive : null);
            restarts.add(restart(node, 0, o.wakerRates().get(0), withArchive, "this"));
          }
          node.useClassArchive(null);
        }
        if (!o.durableFill()) {
          // Queueing is not what is measured: commits that do not wait for the WAL flush fill the journal faster.
          // Only this database, only while queueing; the restarts below run with the server's setting again.
          sql(pg, "ALTER DATABASE " + pg.database + " SET synchronous_commit = off");
          node.kill9();
          node.start();
        }
        Duration submitted = node.submit("r", 0, o.jobs(), o.concurrency());
        System.err.printf("submitted %d jobs in %d ms%n", o.jobs(), submitted.toMillis());
        long t0 = System.nanoTime();
        BenchNode.await(Duration.ofMinutes(30), () -> node.queued() == o.jobs(), "all jobs queued before the kill");
        // Counted in the index's table rather than paged through GET /v1/jobs: before 2026-12-07 each page of that
        // listing read every row of the pages before it, so listing a million took minutes, over and over.
        BenchNode.await(Duration.ofMinutes(30), () -> Sql.scalar(pg, "SELECT COUNT(*) FROM job_index WHERE status = "
            + "'QUEUED'") == o.jobs(), "the job index to list every job QUEUED");
        System.err.printf("all queued and indexed %d ms after the last submission%n",
            (System.nanoTime() - t0) / 1_000_000);
        if (!o.durableFill()) {
          sql(pg, "ALTER DATABASE " + pg.database + " RESET synchronous_commit");
        }
        // The waker's catch-up check: JdbcIndexProgress.journal() asks each tag's maximum alone, which is one step down
        // the index on (tag, event_id); beside it the GROUP BY over the four tags it ran before, which reads every row.
        List<String> tags = List.of("job-0", "job-1", "job-2", "job-3");
        long perTag = queryMicros(pg, tags.stream().map(t -> "SELECT MAX(event_id) FROM event_tag WHERE tag = '" + t
            + "'").toList());
        long groupBy = queryMicros(pg, List.of("SELECT tag, MAX(event_id) FROM event_tag WHERE tag IN ('job-0', "
            + "'job-1', 'job-2', 'job-3') GROUP BY tag"));
        long rows = Sql.scalar(pg, "SELECT COUNT(*) FROM event_tag");
        for (int rate : o.wakerRates()) {
          for (boolean withArchive : o.archives()) {
            node.kill9();
            node.configure("warmgate.read-side.waker.rate = " + rate + "\n");
            node.useClassArchive(withArchive ? archive : null);
            restarts.add(restart(node, o.jobs(), rate, withArchive, "this"));
          }
          if (o.compareWith() != null) {
            node.kill9();
            node.useClassArchive(null);
            node.useBuild(o.compareWith());
            restarts.add(restart(node, o.jobs(), rate, false, "other"));
            node.useBuild(null);
          }
        }
        for (Restart r : restarts) {
          report.row(r.jobs() == 0 ? "baseline: no jobs" : "jobs queued", r.build().equals("this") ? "this"
              : o.compareWith().toString(), r.rate() + "/s", r.archive() ? "on" : "off",
              r.jobs(),
              millis(r.httpReady()),
              r.jobs() == 0 ? "–" : millis(r.half()), r.jobs() == 0 ? "–" : millis(r.resumed()), r.wakerLine() == null
                  ? "(line dropped)" : r.wakerLine());
        }
        report.note(String.format("The waker's catch-up check (last event per tag, over %d event_tag rows): %.2f ms "
            + "as four queries of one tag each (JdbcIndexProgress.journal()), %.2f ms as one GROUP BY over the four "
            + "(median of 5).", rows, perTag / 1000.0, groupBy / 1000.0));
        report.note("Queueing: " + o.jobs() + " jobs through POST /v1/jobs, " + o.concurrency() + " in flight, took "
            + submitted.toMillis() + " ms (" + (o.jobs() * 1000L / Math.max(1, submitted.toMillis())) + " jobs/s).");
        report.note("Resumed: the endpoint's wait queue (GET /v1/endpoints/gen3d `queued`, read every 100 ms) holds "
            + "every job"
            + " again. Node: one child JVM, -Xmx" + o.heap() + ", PostgreSQL"
            + (o.durableFill() ? "." : "; the jobs were queued with synchronous_commit off, the restarts ran with it"
                + " on."));
        if (archive != null) {
          report.note("Class archive on: the node's JVM mapped a class data sharing archive recorded by `warmgate "
              + "cds-training` under -XX:ArchiveClassesAtExit with the same class path and options, as the image and "
              + "bin/run start nodes; off: it loaded every class from the jars.");
        }
      }
      report.publish();
    }
  }

  /** Median of five runs of the queries one after the other, in microseconds. */
  private static long queryMicros(Postgres pg, List<String> queries) throws Exception {
    long[] runs = new long[5];
    try (java.sql.Connection c = pg.connect(); java.sql.Statement s = c.createStatement()) {
      for (int i = 0; i < runs.length; i++) {
        long t0 = System.nanoTime();
        for (String query : queries) {
          try (java.sql.ResultSet rs = s.executeQuery(query)) {
            while (rs.next()) {
              rs.getLong(rs.getMetaData().getColumnCount());
            }
          }
        }
        runs[i] = (System.nanoTime() - t0) / 1000;
      }
    }
    java.util.Arrays.sort(runs);
    return runs[runs.length / 2];
  }


  private static void sql(Postgres pg, String statement) throws Exception {
    try (java.sql.Connection c = pg.connect(); java.sql.Statement s = c.createStatement()) {
      s.execute(statement);
    }
  }

  private static Restart restart(BenchNode node, int jobs, int rate, boolean archive, String build)
      throws Exception {
    long t0 = node.launch();
    node.awaitAnswering();
    Duration http = Duration.ofNanos(System.nanoTime() - t0);
    Duration half = null;
    Duration all = null;
    long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
    String wakerLine = null;
    int polls = 0;
    // The waker's line may be missing: the production log drops lines when its queue is full (neverBlock).
    while (System.nanoTime() < deadline && (all == null || (wakerLine == null
        && System.nanoTime() - t0 - all.toNanos() < 30_000_000_000L))) {
      int queued = jobs == 0 ? 0 : node.queued();
      long now = System.nanoTime();
      if (half == null && queued >= jobs / 2) {
        half = Duration.ofNanos(now - t0);
      }
      if (all == null && queued == jobs) {
        all = Duration.ofNanos(now - t0);
      }
      // The log grows by a line per job: read it once a second only.
      if (wakerLine == null && (polls++ % 10 == 0 || all != null)) {
        Matcher m = WOKE.matcher(node.log());
        if (m.find()) {
          wakerLine = "woke " + m.group(1) + ", enlisted " + m.group(2) + " in " + String.format("%.1f s",
              Integer.parseInt(m.group(3)) / 1000.0);
          if (jobs == 0) {
            all = Duration.ofNanos(now - t0);
          }
        }
      }
      Thread.sleep(100);
    }
    if (all == null) {
      throw new IllegalStateException("the jobs did not all resume within 30 min (queued now " + node.queued() + ")");
    }
    System.err.printf("restart with %d jobs, %s build, waker rate %d/s, class archive %s: HTTP %d ms, all resumed %d "
        + "ms, %s%n", jobs, build, rate, archive ? "on" : "off", http.toMillis(), all.toMillis(), wakerLine);
    return new Restart(jobs, rate, archive, build, http, all, half, wakerLine);
  }


  private static String millis(Duration d) {
    return d == null ? "–" : String.format("%.1f s", d.toMillis() / 1000.0);
  }

  private RecoveryBenchmark() {}
}
