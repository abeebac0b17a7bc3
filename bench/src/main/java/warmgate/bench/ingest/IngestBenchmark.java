package warmgate.bench.ingest;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.LoggerFactory;
import warmgate.auth.TestTokens;
import warmgate.bench.JitSettle;
import warmgate.bench.JournalWrites;
import warmgate.bench.PlannerStatistics;
import warmgate.bench.Report;
import warmgate.bench.Sql;
import warmgate.e2e.Postgres;
import warmgate.job.ObjectRef;
import warmgate.node.InProcessNode;
import warmgate.persistence.DatabaseSettings;
import warmgate.persistence.Schema;

/**
 * Benchmark 1, ingest: S3 notifications accepted per second by one node journaling to PostgreSQL, each answered
 * 2xx only once its job's JobSubmitted event is committed, beside {@code pgbench} inserting the same rows one
 * transaction at a time at the same concurrency, on the same server, in the same run.
 */
public final class IngestBenchmark {
  private static final String USAGE = """
      usage: bench/run ingest [--concurrency 16,64,256] [--warmup 120] [--jit-settle 300] [--duration 20]
                              [--keys 10000] [--writes batched,plugin] [--route http,sqs] [--sqs-consumers 2]
                              [--sqs-messages 60000] [--records 1] [--quick]

      For each concurrency: one Warmgate node (in this JVM, on a fresh PostgreSQL database) takes S3 notifications
      from that many connections, each with one request in flight, for warmup + duration seconds; only the
      duration counts. Then pgbench runs a one-event-per-transaction script at the same concurrency for the same
      time on another fresh database with the same schema. The run fails unless the journal holds exactly one
      JobSubmitted per 2xx answer.

        --concurrency  in-flight requests (and pgbench clients), comma-separated
        --warmup       seconds before the measured window (excluded from every figure); on two cores the JIT needs
                       about two minutes of load to compile the node's hot paths
        --jit-settle   after --warmup, at most this many seconds more of load until the JIT compiled less than 5 %
                       of the last 10 s (0: none); each row says how long it warmed up and how busy the JIT was in
                       its window (http route)
        --duration     seconds of the measured window
        --keys         distinct image keys the notifications name (each with a fresh eTag, so each is a new job)
        --writes       the journal's writes: batched (Warmgate's DAO, as shipped), plugin (pekko-persistence-jdbc's
                       own, one INSERT per event), or both, one node each (default batched)
        --route        http: the notifications above (default); sqs: the same S3 events as SQS messages on a
                       local ElasticMQ (its own process), put there before the node starts and consumed by it; both,
                       one after the other, in the same run
        --sqs-consumers  the SQS rows' long-poll loops per node (warmgate.sqs consumers), comma-separated
        --sqs-messages messages put on the queue before the node starts; a row says if the queue ran dry
        --records      S3 records per notification (http route), comma-separated: each a new job; rates and CPU are
                       then per job, not per request
        --quick        --concurrency 16,64 --warmup 3 --jit-settle 0 --duration 5
      """;


  private record Options(List<Integer> concurrencies, int warmup, int jitSettle, int duration, int keys,
      List<JournalWrites> writes, List<String> routes, List<Integer> sqsConsumers, int sqsMessages,
      List<Integer> records) {
    static Options parse(String[] args) {
      List<String> routes = List.of("http");
      List<Integer> sqsConsumers = List.of(2);
      int sqsMessages = 60_000;
      List<Integer> records = List.of(1);
      List<Integer> concurrencies = List.of(16, 64, 256);
      int warmup = 120;
      int jitSettle = 300;
      int duration = 20;
      int keys = 10_000;
      List<JournalWrites> writes = List.of(JournalWrites.BATCHED);
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--help", "-h" -> {
            System.out.println(USAGE);
            System.exit(0);
          }
          case "--quick" -> {
            concurrencies = List.of(16, 64);
            warmup = 3;
            jitSettle = 0;
            duration = 5;
          }
          case "--concurrency" -> concurrencies = java.util.Arrays.stream(args[++i].split(",")).map(String::trim)
              .map(Integer::parseInt).toList();
          case "--warmup" -> warmup = Integer.parseInt(args[++i]);
          case "--jit-settle" -> jitSettle = Integer.parseInt(args[++i]);
          case "--duration" -> duration = Integer.parseInt(args[++i]);
          case "--keys" -> keys = Integer.parseInt(args[++i]);
          case "--writes" -> writes = JournalWrites.parse(args[++i]);
          case "--route" -> routes = java.util.Arrays.stream(args[++i].split(",")).map(String::trim).toList();
          case "--sqs-consumers" -> sqsConsumers = java.util.Arrays.stream(args[++i].split(",")).map(String::trim)
              .map(Integer::parseInt).toList();
          case "--sqs-messages" -> sqsMessages = Integer.parseInt(args[++i]);
          case "--records" -> records = java.util.Arrays.stream(args[++i].split(",")).map(String::trim)
              .map(Integer::parseInt).toList();
          default -> throw new IllegalArgumentException("unknown option " + args[i] + "\n" + USAGE);
        }
      }
      if (!List.of("http", "sqs").containsAll(routes)) {
        throw new IllegalArgumentException("--route takes http, sqs or both\n" + USAGE);
      }
      return new Options(concurrencies, warmup, jitSettle, duration, keys, writes, routes, sqsConsumers, sqsMessages,
          records);
    }
  }

  /** What one Warmgate run measured. */
  private record WarmgateRun(double perSecond, long accepted, long journaled, String p50, String p99, String refusals,
      long refused, double nodeCores, double loadCores, double postgresCores, double machineCores,
          double indexLagSeconds,
      double idleCores, double commitsPerNotification, PgBench.SampleEvent sample, double warmedSeconds,
      double jitShare) {}

  private static final int PGBENCH_WARMUP_SECONDS = 20;

  private IngestBenchmark() {}

  public static void main(String[] args) throws Exception {
    Options options = Options.parse(args);
    Path work = Files.createTempDirectory("warmgate-ingest-");
    Path nodeLog = Path.of("bench/target/results/ingest-node.log").toAbsolutePath();
    Files.createDirectories(nodeLog.getParent());
    logTo(nodeLog);
    int maxConnections = serverMaxConnections();

    Report report = new Report("ingest", "concurrency", "writes", "records per notification",
        "Warmgate jobs accepted/s", "p50 ms", "p99 ms", "pgbench tx/s", "ratio",
        "Warmgate CPU ms per job (node + its backends)", "pgbench CPU ms per tx (pgbench + its backends)",
        "node + backends idle (cores)", "PostgreSQL commits per job", "machine busy (cores of 2)",
            "2xx = JobSubmitted",
        "index caught up", "route", "SQS server CPU ms per job (ElasticMQ)", "warm-up s", "JIT in window");
    for (int concurrency : options.routes().contains("http") ? options.concurrencies() : List.<Integer>of()) {
      PgBenchRun baseline = null;
      for (int records : options.records()) {
        Map<JournalWrites, WarmgateRun> runs = new java.util.LinkedHashMap<>();
        for (JournalWrites writes : options.writes()) {
          System.err.printf(Locale.ROOT, "== concurrency %d, %d record(s) a notification: Warmgate, %s writes%n",
              concurrency, records, writes.label());
          WarmgateRun w = warmgate(work.resolve("c" + concurrency + "-r" + records + "-" + writes.label()), options,
              concurrency, records, writes);
          System.err.printf(Locale.ROOT, "   %.0f accepted/s (%d accepted, %d JobSubmitted)%n", w.perSecond(),
              w.accepted(), w.journaled());
          runs.put(writes, w);
          // Fewer JobSubmitted than 2xx answers would be an acknowledged job lost; more than the 2xx and the non-2xx
          // answers together, a job nobody asked for. Either fails the run. A request answered 503 (ask timeout) whose
          // job was committed afterwards is what the contract allows: the sender delivers again and hears "duplicate".
          if (w.journaled() < w.accepted() || w.journaled() > w.accepted() + w.refused()) {
            report.publish();
            throw new IllegalStateException("concurrency " + concurrency + ": " + w.accepted()
                + " notifications answered 2xx, "
                + w.refused() + " refused, but the journal holds " + w.journaled() + " JobSubmitted events");
          }
        }
        // pgbench holds one connection per client; the server's other users (and this run's own admin connection) need
        // some too. Once per concurrency: it does not depend on how many records a notification carries.
        if (baseline == null && concurrency + 10 <= maxConnections) {
          System.err.printf(Locale.ROOT, "== concurrency %d: pgbench%n", concurrency);
          baseline = pgbench(work, runs.values().iterator().next().sample(), concurrency, options);
          System.err.printf(Locale.ROOT, "   %.0f tx/s%n", baseline.result().tps());
        }
        for (var entry : runs.entrySet()) {
          WarmgateRun w = entry.getValue();
          String pgbench = "not run (max_connections " + maxConnections + ")";
          String ratio = "–";
          String pgbenchCpu = "–";
          String machine = String.format(Locale.ROOT, "%.2f", w.machineCores());
          if (baseline != null) {
            PgBench.Result r = baseline.result();
            pgbenchCpu = String.format(Locale.ROOT, "%.3f", baseline.cores() / r.tps() * 1000);
            machine += String.format(Locale.ROOT, " / %.2f", baseline.machineCores());
            pgbench = String.format(Locale.ROOT, "%.0f", r.tps()) + (r.failed() > 0 ? " (" + r.failed() + " failed)"
                : "");
            ratio = String.format(Locale.ROOT, "%.2f×", w.perSecond() / r.tps());
          }
          String warmgateCpu = w.perSecond() == 0 ? "–" : String.format(Locale.ROOT, "%.3f (%.3f + %.3f)",
              (w.nodeCores() + w.postgresCores()) / w.perSecond() * 1000, w.nodeCores() / w.perSecond() * 1000,
              w.postgresCores() / w.perSecond() * 1000);
          report.row(concurrency, entry.getKey().label(), records, String.format(Locale.ROOT, "%.0f", w.perSecond()),
              w.p50(),
              w.p99(), pgbench,
              ratio, warmgateCpu, pgbenchCpu, String.format(Locale.ROOT, "%.3f", w.idleCores()),
              String.format(Locale.ROOT, "%.2f", w.commitsPerNotification()), machine, journalCheck(w),
              w.indexLagSeconds() < 0 ? "not within 120 s" : String.format(Locale.ROOT, "%.1f s after the load",
                  w.indexLagSeconds()), "http", "–", String.format(Locale.ROOT, "%.0f", w.warmedSeconds()),
              String.format(Locale.ROOT, "%.0f %%", 100 * w.jitShare()));
        }
      }
    }
    if (options.routes().contains("sqs")) {
      SqsIngest.run(work, options.sqsConsumers(), options.writes(), options.warmup(), options.duration(),
          options.keys(), options.sqsMessages(), report);
    }
    report.note(String.format(Locale.ROOT,
        "Warmup %d s excluded (pgbench: at most 20 s), then up to %d s more until the JIT compiled less than 5 %% of "
        + "10 s (the row's warm-up s); window %d s; JIT in window: the compilers' time over it. One node in the "
        + "benchmark's JVM on a fresh PostgreSQL database; "
        + "each request carries the row's number of S3 ObjectCreated records, each for a new job (new eTag), and is "
        + "answered 200 once their JobSubmitted are committed. "
        + "The endpoint stays starting (its provider never reports InService), so accepted jobs go on to JobQueued and "
            + "wait in "
        + "its queue; max-queued is above anything a run reaches. The node's PostgreSQL database gets ANALYZE every "
            + "15 s, as "
        + "autovacuum would (this machine's server runs without it). pgbench: one transaction per event row plus its"
            + " tag row, "
        + "the real JobSubmitted payload, same clients, same window, fresh database with the same schema. CPU per "
        + "operation: the node's process CPU (less the load generator's threads) and the PostgreSQL backends serving"
            + " its "
        + "database, over the window, per accepted job; pgbench's process and its backends per transaction."
            + " Machine "
        + "busy: every core's non-idle time, during Warmgate's window / pgbench's, which shows how much else ran. Node "
            + "log: %s.",
        options.warmup(), options.jitSettle(), options.duration(), nodeLog));
    report.publish();
    System.exit(0);
  }

  private static String journalCheck(WarmgateRun w) {
    if (w.journaled() == w.accepted() && w.refused() == 0) {
      return "yes (" + w.accepted() + ")";
    }
    return (w.journaled() == w.accepted() ? "yes" : "NO") + " (" + w.accepted() + " 2xx, " + w.journaled()
        + " JobSubmitted; non-2xx "
        + w.refusals() + ")";
  }

  private static WarmgateRun warmgate(Path dataDir, Options options, int concurrency, int records,
      JournalWrites writes)
      throws Exception {
    // Autovacuum is off on this machine's server; without statistics the read side's queries on a journal that grew
    // from empty in seconds are planned as scans, and a production server has them (PlannerStatistics).
    try (Postgres postgres = new Postgres(); PlannerStatistics stats = PlannerStatistics.keepCurrent(postgres,
        Duration.ofSeconds(15))) {
      Map<String, Object> settings = new java.util.HashMap<>();
      settings.put("warmgate.database.url", postgres.url);
      settings.put("warmgate.database.user", Postgres.USER);
      // Nothing a run reaches may be refused as busy: accepted means accepted.
      settings.put("warmgate.endpoint-defaults.max-queued", 100_000_000);
      settings.put("warmgate.endpoint-defaults.queue.owner-defaults.max-queued", 100_000_000);
      // A queued job repeats its Acquire this often; the default (5 s) would have the run's own backlog of queued
      // jobs, all waiting for an endpoint that never becomes ready, compete with ingest.
      settings.put("warmgate.request.acquire-interval", "10m");
      settings.put("warmgate.request.inputs-check-interval", "10m");
      settings.put("warmgate.endpoint-defaults.status-poll-interval", "1s");
      writes.applyTo(settings);
      try (InProcessNode node = InProcessNode.start(dataDir, settings, null, false)) {
        for (int i = 0; i < options.keys(); i++) {
          node.blobs.put(new ObjectRef("gen3d", NotificationLoad.imageKey(i)), new byte[] {1});
          node.blobs.put(new ObjectRef("gen3d", NotificationLoad.maskKey(i)), new byte[] {2});
        }
        int port = URI.create(node.base).getPort();
        NotificationLoad load = new NotificationLoad(port, TestTokens.ADMIN, concurrency, options.keys(), records);
        // What the node and its backends spend with nothing to do (cluster, projections polling, timers): a fixed
        // cost that weighs on every notification when few get through.
        List<Long> idleBackends = backends(postgres);
        Cpu idleFrom = Cpu.now(load, idleBackends);
        Thread.sleep(5_000);
        Cpu idleTo = Cpu.now(load, idleBackends);
        double idleCores = ((idleTo.process() - idleFrom.process()) / 1e9
            + (idleTo.backends() - idleFrom.backends()) / Cpu.TICKS) / 5.0;
        load.start();
        Thread.sleep(Duration.ofSeconds(options.warmup()).toMillis());
        JitSettle jit = new JitSettle();
        double warmed = options.warmup() + jit.awaitQuiet(Duration.ofSeconds(options.jitSettle())).toNanos() / 1e9;
        JitSettle.Since window = jit.mark();
        System.err.printf(Locale.ROOT, "   measuring %d s, after %.0f s of warm-up%n", options.duration(), warmed);

        List<Long> backends = backends(postgres);
        Cpu before = Cpu.now(load, backends);
        long commitsBefore = commits(postgres);
        long start = System.nanoTime();
        load.beginWindow();
        Thread.sleep(Duration.ofSeconds(options.duration()).toMillis());
        load.endWindow();
        double seconds = (System.nanoTime() - start) / 1e9;
        double jitShare = window.share();
        Cpu after = Cpu.now(load, backends);
        long commits = commits(postgres) - commitsBefore;
        long inWindow = load.acceptedInWindow();
        load.stop();
        long stopped = System.nanoTime();

        long journaled;
        try (Connection c = postgres.connect()) {
          journaled = Sql.scalar(c, "SELECT COUNT(*) FROM event_journal WHERE event_ser_manifest LIKE '%JobSubmitted'");
        }
        if (load.connectionFailures() > 0 || load.notNew() > 0) {
          throw new IllegalStateException(load.connectionFailures() + " connection failures, " + load.notNew()
              + " 2xx answers that did not report a new job");
        }
        double lag = indexLag(postgres, load.accepted(), stopped);
        PgBench.SampleEvent sample;
        try (Connection c = postgres.connect()) {
          sample = sample(c);
        }
        double load0 = (after.load - before.load) / 1e9 / seconds;
        double process = (after.process - before.process) / 1e9 / seconds;
        return new WarmgateRun(inWindow / seconds, load.accepted(), journaled, millis(load, 0.5), millis(load, 0.99),
            load.refusals(), load.refused(), process - load0, load0,
                (after.backends - before.backends) / Cpu.TICKS / seconds,
            (after.machine - before.machine) / Cpu.TICKS / seconds, lag, idleCores, inWindow == 0 ? 0
                : (double) commits / inWindow, sample, warmed, jitShare);
      }
    }
  }

  private static String millis(NotificationLoad load, double fraction) {
    return load.latencies().count() == 0 ? "–" : load.latencies().millis(fraction);
  }

  /** Seconds after the load stopped until every accepted job has its row in job_index; -1 past 120 s. */
  static double indexLag(Postgres postgres, long accepted, long stoppedNanos) throws Exception {
    long deadline = stoppedNanos + Duration.ofSeconds(120).toNanos();
    try (Connection c = postgres.connect()) {
      while (System.nanoTime() < deadline) {
        if (Sql.scalar(c, "SELECT COUNT(*) FROM job_index") >= accepted) {
          return (System.nanoTime() - stoppedNanos) / 1e9;
        }
        Thread.sleep(100);
      }
    }
    return -1;
  }

  private static PgBench.SampleEvent sample(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT j.writer, j.event_ser_id, j.event_ser_manifest, j.event_payload, t.tag"
            + " FROM event_journal j "
            + "JOIN event_tag t ON t.event_id = j.ordering WHERE j.event_ser_manifest LIKE '%JobSubmitted' ORDER BY "
                + "j.ordering LIMIT 1")) {
      if (!rs.next()) {
        throw new IllegalStateException("no JobSubmitted in the journal to copy for pgbench");
      }
      return new PgBench.SampleEvent(rs.getString(1), rs.getInt(2), rs.getString(3),
          HexFormat.of().formatHex(rs.getBytes(4)), rs.getString(5));
    }
  }

  /** @param cores CPU of pgbench and its backends together, in cores */
  private record PgBenchRun(PgBench.Result result, double cores, double machineCores) {}

  private static PgBenchRun pgbench(Path work, PgBench.SampleEvent sample, int clients, Options options)
      throws Exception {
    try (Postgres postgres = new Postgres()) {
      Schema.createIfMissing(new DatabaseSettings(DatabaseSettings.Kind.POSTGRES, postgres.url, Postgres.USER, "", 1));
      Path script = work.resolve("journal-insert.sql");
      Files.writeString(script, PgBench.script(sample), StandardCharsets.UTF_8);
      URI server = URI.create(Postgres.ADMIN_URL.substring("jdbc:".length()));
      // pgbench has no JIT to warm: 20 s fill its caches as well as the node's two minutes would.
      PgBench.finish(PgBench.start(script, server.getHost(), server.getPort(), Postgres.USER, postgres.database,
          clients,
          Math.min(options.warmup(), PGBENCH_WARMUP_SECONDS)));
      Process run = PgBench.start(script, server.getHost(), server.getPort(), Postgres.USER, postgres.database,
          clients, options.duration());
      // CPU is sampled while pgbench runs, between 1 s after its start and 1 s before its end: its backends and
      // pgbench itself are gone once it has finished.
      Thread.sleep(1_000);
      List<Long> pids = backends(postgres);
      pids.add(run.pid());
      Cpu before = Cpu.now(null, pids);
      long start = System.nanoTime();
      Thread.sleep(Math.max(1_000, (options.duration() - 2) * 1_000L));
      Cpu after = Cpu.now(null, pids);
      double seconds = (System.nanoTime() - start) / 1e9;
      PgBench.Result measured = PgBench.finish(run);
      try (Connection c = postgres.connect()) {
        long rows = Sql.scalar(c, "SELECT COUNT(*) FROM event_tag");
        if (rows != Sql.scalar(c, "SELECT COUNT(*) FROM event_journal")) {
          throw new IllegalStateException("pgbench left journal rows without their tag row");
        }
      }
      return new PgBenchRun(measured, (after.backends() - before.backends()) / Cpu.TICKS / seconds,
          (after.machine() - before.machine()) / Cpu.TICKS / seconds);
    }
  }

  private static int serverMaxConnections() throws SQLException {
    try (Postgres postgres = new Postgres(); Connection c = postgres.connect()) {
      return (int) Sql.scalar(c, "SELECT setting::int FROM pg_settings WHERE name = 'max_connections'");
    }
  }


  private static void logTo(Path file) throws Exception {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    context.putProperty("INGEST_NODE_LOG", file.toString());
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(IngestBenchmark.class.getResource("node-logback.xml"));
  }

  /**
   * CPU used so far: this process and the load generator's threads
   * in nanoseconds; given processes (the PostgreSQL backends serving one database, pgbench) and the whole
   * machine in clock ticks (from /proc). Backends are counted by database, so other users of the shared server are left
   * out (its
   * background writers are too).
   */
  record Cpu(long process, long load, long backends, long machine) {
    static final double TICKS = 100.0; // USER_HZ on Linux

    static Cpu now(NotificationLoad load, List<Long> backendPids) throws Exception {
      long process = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
          .getProcessCpuTime();
      long backends = 0;
      for (long pid : backendPids) {
        try {
          String[] f = stat(Path.of("/proc", String.valueOf(pid), "stat"));
          backends += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
        } catch (java.io.IOException | RuntimeException gone) {
          // the backend ended (a connection closed by its pool)
        }
      }
      String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long busy = 0;
      for (int i = 1; i < cpu.length; i++) {
        if (i != 4 && i != 5 && i < 9) { // not idle, iowait, or guest time (already in user)
          busy += Long.parseLong(cpu[i]);
        }
      }
      return new Cpu(process, load == null ? 0 : load.cpuNanos(), backends, busy);
    }

    /** The fields of a /proc/<pid>/stat after the command name, from state (index 0) on. */
    private static String[] stat(Path file) throws java.io.IOException {
      String stat = Files.readString(file);
      return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }
  }

  /** The server processes serving {@code database} now (pooled connections, so the same for the whole window). */
  /**
   * Transactions committed in {@code postgres}'s database so far, as the statistics collector counts them (each
   * backend reports within a second or so, which a 20 s window absorbs).
   */
  static long commits(Postgres postgres) throws SQLException {
    try (Connection c = postgres.connect()) {
      return Sql.scalar(c, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
    }
  }

  static List<Long> backends(Postgres postgres) throws SQLException {
    List<Long> pids = new ArrayList<>();
    try (Connection c = postgres.connect(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <"
            + "> pg_backend_pid()")) {
      while (rs.next()) {
        pids.add(rs.getLong(1));
      }
    }
    return pids;
  }
}
