package warmgate.bench.recovery;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import warmgate.bench.PlannerStatistics;
import warmgate.bench.Report;
import warmgate.bench.Sql;
import warmgate.demo.SampleImages;
import warmgate.e2e.Postgres;

/**
 * Benchmark 5: the node's heap per job, in a child JVM on PostgreSQL, read as the live bytes of a full GC
 * ({@code jcmd GC.class_histogram}, which collects before it counts).
 *
 * <p>(a) Buffered jobs: the endpoint never comes up (its "model" is {@code sleep}), so every job submitted stays
 * QUEUED, its entity in memory and its place in the endpoint's wait queue. The heap with N such jobs, minus the
 * same node's heap before the first job, over N. The classes that grew most are printed per job.
 *
 * <p>(b) Journaled jobs: jobs run through a warm demo model that does next to nothing (8x8-pixel images), in rounds;
 * after each round, once the finished jobs have passivated ({@code warmgate.request.passivate-after}), the heap and
 * the number of job entities in memory are read again. Flat figures round after round mean the heap does not grow
 * with the journal.
 */
public final class MemoryBenchmark {
  private static final String ENTITY_CLASS = "warmgate.request.RequestEntity";

  private record Options(List<Integer> buffered, List<String> parkAfter, int journaled, int rounds,
      String passivateAfter, String heap,
      int concurrency, int slots, int owners, boolean partA, boolean partB, Duration readAfter) {
    static Options parse(String[] args) {
      List<Integer> buffered = List.of(2_000, 10_000, 40_000);
      List<String> parkAfter = List.of("0s", "5s");
      int journaled = 1_000_000;
      int rounds = 4;
      String passivate = "30s";
      String heap = "2g";
      int concurrency = 32;
      int slots = 32;
      int owners = 0;
      boolean a = true;
      boolean b = true;
      Duration readAfter = null;
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--buffered" -> buffered = Arrays.stream(args[++i].split(",")).map(Integer::parseInt).sorted().toList();
          case "--park-after" -> parkAfter = List.of(args[++i].split(","));
          case "--journaled" -> journaled = Integer.parseInt(args[++i]);
          case "--rounds" -> rounds = Integer.parseInt(args[++i]);
          case "--passivate-after" -> passivate = args[++i];
          case "--node-heap" -> heap = args[++i];
          case "--concurrency" -> concurrency = Integer.parseInt(args[++i]);
          case "--slots" -> slots = Integer.parseInt(args[++i]);
          case "--owners" -> owners = Integer.parseInt(args[++i]);
          case "--read-after" -> readAfter = Duration.parse("PT" + args[++i].toUpperCase());
          case "--only" -> {
            String part = args[++i];
            a = part.equals("buffered");
            b = part.equals("journaled");
          }
          case "-h", "--help" -> {
            System.out.println("""
                bench/run memory [--buffered N,N,..] [--park-after D,D] [--journaled N] [--rounds R] \
                [--passivate-after 30s]
                                 [--node-heap 2g] [--concurrency C] [--slots S] [--only buffered|journaled]
                  --buffered N,N    (a) jobs held QUEUED on a cold endpoint, the heap read at each count (default 2000,\
                10000,40000)
                  --park-after D,D  (a) one node each with this warmgate.request.park-after; 0s keeps queued jobs in \
                memory
                                    (default 0s,5s; the heap is read once every job has parked)
                  --journaled N     (b) jobs run to completion in all (default 1000000; 20000 for a quick run)
                  --rounds R        (b) in this many rounds, the heap read after each once the jobs passivated \
                (default 4)
                  --passivate-after (b) warmgate.request.passivate-after of the node (default 30s, the shipped value)
                  --node-heap       -Xmx of the node's JVM (default 2g)
                  --concurrency C   job submissions in flight; a 429 (the endpoint's queue full) is sent again after \
                its Retry-After (default 32)
                  --slots S         (b) max-concurrency of the warm endpoint: each job's output is written with fsync, \
                so more
                                    slots keep more of those waits in flight (default 32)
                  --owners N        (a) job i belongs to owner o<i % N>, so the fair share queue holds N owners' \
                shares (default 0: no owner named, every job the admin token's)
                  --read-after D    (a) read the heap D after the last job was queued, parked or not (default: once \
                every job has parked, then 2 s)""");
            System.exit(0);
          }
          default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--help)");
        }
      }
      return new Options(buffered, parkAfter, journaled, rounds, passivate, heap, concurrency, slots, owners, a, b,
          readAfter);
    }
  }

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args);
    List<String> jvm = BenchNode.jvmOptions("-Xmx" + o.heap(), "-Dlogback.configurationFile=logback.xml");
    if (o.partA()) {
      buffered(o, jvm).publish();
    }
    if (o.partB()) {
      journaled(o, jvm).publish();
    }
  }

  private static Report buffered(Options o, List<String> jvm) throws Exception {
    Report report = new Report("memory-buffered", "park-after", "jobs queued", "of them parked", "live heap",
        "above the idle node", "per job",
        "per job, since the previous row", "job entities in memory");
    int max = o.buffered().get(o.buffered().size() - 1);
    List<String> growths = new ArrayList<>();
    for (String parkAfter : o.parkAfter()) {
      boolean parks = !Duration.parse("PT" + parkAfter.toUpperCase()).isZero();
      try (Postgres pg = new Postgres();
          BenchNode node = new BenchNode(Files.createTempDirectory("warmgate-memory-a"), pg.url, Postgres.USER, """
              warmgate.request.park-after = %s
              warmgate.endpoints.gen3d.max-queued = %d
              warmgate.endpoints.gen3d.queue.owner-defaults.max-queued = %d
              warmgate.endpoints.gen3d.start-timeout = 6h
              warmgate.endpoints.gen3d.process.command = ["sleep", "21600"]
              """.formatted(parkAfter, Math.max(10_000, max + 1000), Math.max(5_000, max + 1000)), jvm)) {
        node.start();
        Thread.sleep(5_000); // let the start settle: the read side's first poll, the waker's first run
        BenchNode.Histogram idle = node.histogram();
        report.row(parkAfter, 0, 0, mib(idle.liveBytes()), "–", "–", "–", idle.instances(ENTITY_CLASS));
        BenchNode.Histogram previous = idle;
        int submitted = 0;
        for (int n : o.buffered()) {
          node.submit("m", submitted, n, o.concurrency(), "{\"image\":\"" + BenchNode.INPUT + "\"}", o.owners());
          int target = n;
          BenchNode.await(Duration.ofMinutes(30), () -> node.queued() == target, n + " jobs queued");
          if (o.readAfter() != null) {
            Thread.sleep(o.readAfter().toMillis()); // parked by then or not: what the node holds this soon
          } else {
            if (parks) {
              BenchNode.await(Duration.ofMinutes(30), () -> node.parked() == target, n + " jobs parked");
            }
            Thread.sleep(2_000);
          }
          BenchNode.Histogram h = node.histogram();
          report.row(parkAfter, n, node.parked(), mib(h.liveBytes()), mib(h.liveBytes() - idle.liveBytes()),
              (h.liveBytes() - idle.liveBytes()) / n + " B", (h.liveBytes() - previous.liveBytes()) / (n - submitted)
                  + " B",
              h.instances(ENTITY_CLASS));
          System.err.printf("park-after %s, %d queued: live %d B%n", parkAfter, n, h.liveBytes());
          previous = h;
          submitted = n;
        }
        growths.add("park-after " + parkAfter + ":\n\n" + growth(idle, previous, max));
      }
    }
    report.note("The endpoint never starts, so every job stays QUEUED, with its place in the endpoint's wait queue. "
        + "With"
        + " park-after 0s each job's entity stays in memory; otherwise the heap is read once every job has parked (its"
        + " actor stopped, its place held by id)"
        + (o.readAfter() == null ? "" : ", or, here, " + o.readAfter().toMillis() + " ms after the last job was queued")
        + ". Live heap: the total of `jcmd <pid> GC.class_histogram` (a full GC"
            + " first)."
        + " One node per park-after, one after the other. Node: -Xmx" + o.heap() + "."
        + (o.owners() == 0 ? " Every job the admin token's own." : " Job i belongs to owner o<i % " + o.owners()
            + ">, queue.policy = fair."));
    report.note("Where the " + max + " jobs' heap goes, bytes per job by class (the largest growths since the idle "
        + "node):");
    growths.forEach(report::note);
    return report;
  }

  private static Report journaled(Options o, List<String> jvm) throws Exception {
    Report report = new Report("memory-journaled", "jobs run in all", "when", "live heap", "job entities in memory",
        "jobs/s (round)");
    try (Postgres pg = new Postgres(); PlannerStatistics stats = PlannerStatistics.keepCurrent(pg,
        Duration.ofMinutes(1))) {
      Path dir = Files.createTempDirectory("warmgate-memory-b");
      Path input = dir.resolve("buckets/gen3d/bench");
      Files.createDirectories(input);
      Files.write(input.resolve("image.png"), SampleImages.image(8));
      Files.write(input.resolve("mask.png"), SampleImages.mask(8));
      String inputs = "{\"image\":\"s3://gen3d/bench/image.png\",\"mask\":\"s3://gen3d/bench/mask.png\"}";
      try (BenchNode node = new BenchNode(dir, pg.url, Postgres.USER, """
          warmgate.request.passivate-after = %s
          warmgate.endpoints.gen3d.max-concurrency = %d
          warmgate.endpoints.gen3d.idle-timeout = 6h
          warmgate.endpoints.gen3d.process.port = %d
          warmgate.endpoints.gen3d.process.command = ["{java}", "-Xmx128m", "-XX:+UseSerialGC", "-cp", "{classpath}",
            "warmgate.demo.DemoModelServer", "--host", "{host}", "--port", "{port}", "--startup-delay", "0s"]
          """.formatted(o.passivateAfter(), o.slots(), warmgate.e2e.Ports.free()), jvm)) {
        node.start();
        Thread.sleep(5_000);
        BenchNode.Histogram idle = node.histogram();
        report.row(0, "idle, before the first job", mib(idle.liveBytes()), idle.instances(ENTITY_CLASS), "–");
        Duration passivate = Duration.parse("PT" + o.passivateAfter().toUpperCase());
        int perRound = Math.max(1, o.journaled() / o.rounds());
        int done = 0;
        for (int round = 1; round <= o.rounds(); round++) {
          int to = round == o.rounds() ? o.journaled() : done + perRound;
          long t0 = System.nanoTime();
          node.submit("j", done, to, o.concurrency(), inputs);
          int target = to;
          BenchNode.await(Duration.ofHours(6), () -> {
            if (Sql.scalar(pg, "SELECT COUNT(*) FROM job_index WHERE status = 'FAILED'") > 0) {
              throw new IllegalStateException("a job failed (log: " + dir + "); every job here should succeed");
            }
            return Sql.scalar(pg, "SELECT COUNT(*) FROM job_index WHERE status = 'SUCCEEDED'") == target;
          }, target + " jobs SUCCEEDED in the job index");
          double rate = (to - done) / ((System.nanoTime() - t0) / 1e9);
          BenchNode.Histogram finished = node.histogram();
          report.row(to, "round " + round + ": all finished", mib(finished.liveBytes()),
              finished.instances(ENTITY_CLASS),
              String.format("%.0f", rate));
          Thread.sleep(passivate.plusSeconds(15).toMillis());
          BenchNode.Histogram passivated = node.histogram();
          report.row(to, "round " + round + ": passivate-after + 15 s later", mib(passivated.liveBytes()),
              passivated.instances(ENTITY_CLASS), "–");
          // The whole row, so a long run stopped early still leaves its finished rounds behind.
          System.err.printf("round %d: %d jobs, %.0f jobs/s, live %d B with %d entities finished, %d B with %d "
              + "entities passivated%n",
              round, to, rate, finished.liveBytes(), finished.instances(ENTITY_CLASS), passivated.liveBytes(),
              passivated.instances(ENTITY_CLASS));
          done = to;
        }
        report.note("Every job: POST /v1/jobs with an 8x8-pixel image and mask, run by the demo model (warm, no start "
            + "delay,"
            + " max-concurrency " + o.slots()
                + "), output written to the local bucket. Finished jobs leave memory after"
            + " warmgate.request.passivate-after = " + o.passivateAfter() + ". Job entities in memory: instances of "
                + ENTITY_CLASS
            + " in the class histogram. Node: -Xmx" + o.heap() + ".");
        report.note("Journal rows: " + Sql.scalar(pg, "SELECT COUNT(*) FROM event_journal") + " events for "
            + o.journaled() + " jobs.");
      }
    }
    return report;
  }

  /** The classes that grew most from {@code before} to {@code after}, per job, as a small Markdown table. */
  private static String growth(BenchNode.Histogram before, BenchNode.Histogram after, int jobs) {
    List<Map.Entry<String, long[]>> grown = new ArrayList<>();
    for (Map.Entry<String, long[]> e : after.classes().entrySet()) {
      long[] b = before.classes().getOrDefault(e.getKey(), new long[] {0, 0});
      grown.add(Map.entry(e.getKey(), new long[] {e.getValue()[0] - b[0], e.getValue()[1] - b[1]}));
    }
    grown.sort(Comparator.comparingLong((Map.Entry<String, long[]> e) -> e.getValue()[1]).reversed());
    StringBuilder md = new StringBuilder("| class | instances per job | bytes per job |\n|---|---|---|\n");
    for (Map.Entry<String, long[]> e : grown.subList(0, Math.min(15, grown.size()))) {
      md.append(String.format("| `%s` | %.2f | %d |%n", e.getKey(), e.getValue()[0] / (double) jobs,
          e.getValue()[1] / jobs));
    }
    return md.toString().strip();
  }

  private static String mib(long bytes) {
    return String.format("%.1f MiB", bytes / 1048576.0);
  }

  private MemoryBenchmark() {}
}
