package warmgate.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import warmgate.auth.TestTokens;
import warmgate.demo.SampleImages;
import warmgate.e2e.Api;
import warmgate.e2e.Await;
import warmgate.e2e.ChildNode;
import warmgate.e2e.Management;
import warmgate.e2e.ModelProcesses;
import warmgate.e2e.Ports;

// Real processes: three Warmgate JVMs on loopback in one cluster, a PostgreSQL server of the test's own that it stops
// for real, a model process that logs every invocation; nodes killed with SIGKILL and started again.
class ChaosIT {
  private static final int NODES = 3;
  private static final int INPUT_PAIRS = 16;
  /** Generous: on a 2-core machine shared with other builds a JVM has taken minutes to start and join. */
  private static final Duration CLUSTER_TIMEOUT = Duration.ofMinutes(10);

  /**
   * How much chaos: {@code warmgate.reliability.scale} = short (the normal suite) or long (bench/run reliability long).
   *
   * @param window submissions are spread over it, and the kills and the outage fall at random moments inside it
   */
  record Scale(String name, int jobs, int kills, Duration minOutage, Duration maxOutage, Duration window,
      Duration drain) {
    static Scale fromProperty() {
      String name = System.getProperty("warmgate.reliability.scale", "short");
      return switch (name) {
        case "short" -> new Scale(name, 300, 3, Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(60),
            Duration.ofMinutes(4));
        case "long" -> new Scale(name, 10_000, 30, Duration.ofSeconds(60), Duration.ofSeconds(60),
            Duration.ofMinutes(20),
            Duration.ofMinutes(20));
        default -> throw new IllegalArgumentException("warmgate.reliability.scale is short or long, not " + name);
      };
    }
  }

  /** One node: its ports and configuration, and the JVM running it now (a new one after each kill). */
  record Member(int index, int httpPort, int remotePort, int managementPort, Path conf, Path log) {
    Api api() {
      return new Api(httpPort, TestTokens.ADMIN);
    }

    Api management() {
      return new Api(managementPort, null);
    }

    String address() {
      return "pekko://warmgate@127.0.0.1:" + remotePort;
    }
  }

  /** A job the client got a 2xx for: its idempotency key and the id the node answered. */
  record Accepted(String key, String jobId, int tries) {}

  private Path root;
  private OwnPostgres postgres;
  private final List<Member> members = new ArrayList<>();
  private AtomicReferenceArray<ChildNode> running;
  private final AtomicInteger relaunches = new AtomicInteger();

  @BeforeEach
  void createFolderAndDatabaseServer() throws Exception {
    root = Files.createTempDirectory(Files.createDirectories(Path.of("target", "chaos-it")).toAbsolutePath(), "run-");
    postgres = OwnPostgres.create();
  }

  @AfterEach
  void stop() throws Exception {
    if (running != null) {
      for (int i = 0; i < running.length(); i++) {
        ChildNode node = running.get(i);
        if (node != null) {
          node.close();
        }
      }
    }
    ModelProcesses.killAll(root.resolve("endpoints"));
    if (postgres != null) {
      postgres.close();
    }
    System.out.println("Node logs and the model's invocation log: " + root);
  }

  @Test
  void everyAcceptedJobSucceedsExactlyOnceThroughKillsAndADatabaseOutage() throws Exception {
    Scale scale = Scale.fromProperty();
    long seed = Long.getLong("warmgate.chaos.seed", System.nanoTime());
    Random random = new Random(seed);
    System.out.println("ChaosIT scale " + scale + ", seed " + seed + " (repeat with -Dwarmgate.chaos.seed=" + seed
        + ")");
    String context = "seed " + seed + ", logs under " + root;

    Path bucket = root.resolve("buckets/gen3d");
    for (int p = 0; p < INPUT_PAIRS; p++) {
      upload(bucket.resolve("chaos/in/p" + p + "_image.png"), SampleImages.image(20 + p));
      upload(bucket.resolve("chaos/in/p" + p + "_mask.png"), SampleImages.mask(20 + p));
    }
    startCluster();

    // The plan, all drawn from the seed up front: when each kill falls, whom it hits, how long the node stays down,
    // and when the database goes away for how long.
    long windowMs = scale.window().toMillis();
    List<Long> killAt = random.longs(scale.kills(), windowMs / 20, windowMs * 19 / 20).sorted().boxed().toList();
    List<Integer> victims = IntStream.range(0, scale.kills()).mapToObj(k -> random.nextInt(NODES)).toList();
    List<Long> downFor = IntStream.range(0, scale.kills()).mapToObj(k -> 500L + random.nextInt(2_500)).toList();
    Duration outage = scale.minOutage().plusMillis(random.nextLong(scale.maxOutage().minus(scale.minOutage())
        .toMillis() + 1));
    long outageAt = windowMs / 10 + random.nextLong(Math.max(1, windowMs * 8 / 10 - outage.toMillis()));
    List<Integer> entryNode = IntStream.range(0, scale.jobs()).mapToObj(i -> random.nextInt(NODES)).toList();
    OwnPostgres.Stop stopMode = random.nextBoolean() ? OwnPostgres.Stop.FAST : OwnPostgres.Stop.IMMEDIATE;

    long start = System.nanoTime();
    ExecutorService faults = Executors.newFixedThreadPool(2);
    Future<List<String>> kills = faults.submit(() -> killAndRestart(start, killAt, victims, downFor));
    Future<?> outageDone = faults.submit(() -> {
      sleepUntil(start, outageAt);
      System.out.println("t=" + elapsed(start) + " database stop (" + stopMode + ") for " + outage.toSeconds() + " s");
      postgres.stop(stopMode);
      Thread.sleep(outage.toMillis());
      postgres.start();
      System.out.println("t=" + elapsed(start) + " database back");
      return null;
    });

    Map<String, Accepted> accepted = new ConcurrentHashMap<>();
    Map<String, String> refused = new ConcurrentHashMap<>();
    AtomicInteger retriedSubmissions = new AtomicInteger();
    ExecutorService clients = Executors.newFixedThreadPool(8);
    List<Future<?>> submissions = new ArrayList<>();
    for (int i = 0; i < scale.jobs(); i++) {
      int job = i;
      long at = windowMs * i / scale.jobs();
      submissions.add(clients.submit(() -> {
        sleepUntil(start, at);
        submit(job, "chaos-" + seed + "-" + job, entryNode.get(job), accepted, refused, retriedSubmissions);
        return null;
      }));
    }
    for (Future<?> f : submissions) {
      f.get();
    }
    clients.shutdown();
    long submittedAt = System.nanoTime();
    List<String> killLog = kills.get();
    outageDone.get();
    faults.shutdown();
    long faultsDoneAt = System.nanoTime();

    // Everything is in: wait for the read side to show every accepted job terminal, then read the truth (journal).
    Await.until(scale.drain(), "every accepted job terminal in job_index (" + context + ")",
        () -> terminalInIndex() >= accepted.size());
    Await.until(CLUSTER_TIMEOUT, "the read side to fold every event (" + context + ")", () -> indexCaughtUp());
    Duration duration = Duration.ofNanos(System.nanoTime() - start);

    Map<String, List<String>> journal = journalByJob();
    Map<String, Integer> invocations = new HashMap<>();
    for (String key : CountingModel.invocations(root.resolve("invocations.log"))) {
      invocations.merge(key, 1, Integer::sum);
    }
    Map<String, String> index = indexStatuses();
    List<String> lost = new ArrayList<>();
    List<String> twice = new ArrayList<>();
    List<String> notSucceeded = new ArrayList<>();
    List<String> overInvoked = new ArrayList<>();
    List<Integer> attempts = new ArrayList<>();
    for (Accepted a : accepted.values()) {
      List<String> types = journal.getOrDefault(a.jobId(), List.of());
      if (Collections.frequency(types, "JobSubmitted") != 1) {
        lost.add(a.jobId() + " " + types);
        continue;
      }
      long succeeded = Collections.frequency(types, "JobSucceeded");
      if (succeeded > 1) {
        twice.add(a.jobId() + " " + types);
      }
      if (succeeded != 1 || !types.get(types.size() - 1).equals("JobSucceeded")
          || !"SUCCEEDED".equals(index.get(a.jobId()))) {
        notSucceeded.add(a.jobId() + " index " + index.get(a.jobId()) + " journal " + types);
      }
      int started = Collections.frequency(types, "AttemptStarted");
      attempts.add(started);
      int invoked = invocations.getOrDefault(a.key(), 0);
      // Each attempt invokes the model at most once: a retry is a new attempt, a recovered one checks the output first.
      if (invoked < 1 || invoked > started) {
        overInvoked.add(a.jobId() + " invoked " + invoked + " in " + started + " attempt(s) " + types);
      }
      Path output = bucket.resolve("chaos/out/" + a.key() + ".ply");
      if (!Files.exists(output) || !Files.readString(output, StandardCharsets.US_ASCII).startsWith("ply\n")) {
        notSucceeded.add(a.jobId() + " has no output at " + output);
      }
    }
    Collections.sort(attempts);
    Audit audit = audit();

    String table = """
        | scale | seed | accepted | refused | succeeded | lost | completed twice | model invocations | kills | \
        restarts | outage | duration | attempts max / p99 | jobs with 2+ attempts | client retries |
        |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
        | %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d s, %s | %d s | %d / %d | %d | %d |
        """.formatted(scale.name(), seed, accepted.size(), refused.size(),
        accepted.size() - notSucceeded.size() - lost.size(), lost.size(), twice.size(),
        invocations.values().stream().mapToInt(Integer::intValue).sum(), killLog.size(), relaunches.get(),
            outage.toSeconds(),
        stopMode.name().toLowerCase(Locale.ROOT),
        duration.toSeconds(), attempts.isEmpty() ? 0 : attempts.get(attempts.size() - 1),
        attempts.isEmpty() ? 0 : Percentiles.nearestRank(attempts, 0.99),
        attempts.stream().filter(n -> n > 1).count(), retriedSubmissions.get());
    System.out.println(table);
    System.out.println("Submissions took " + Duration.ofNanos(submittedAt - start).toSeconds() + " s, the faults "
        + Duration.ofNanos(faultsDoneAt - start).toSeconds() + " s (the last kill's node back in the cluster); kills: "
            + killLog);
    System.out.println(audit.output());
    Files.writeString(root.resolve("counts.md"), table + "\nkills: " + killLog + "\n" + audit.output());

    assertThat(refused).as("submissions a retrying client never got accepted (%s)", context).isEmpty();
    assertThat(accepted).as(context).hasSize(scale.jobs());
    assertThat(lost).as("accepted jobs missing from the journal (%s)", context).isEmpty();
    assertThat(twice).as("jobs that succeeded twice (%s)", context).isEmpty();
    assertThat(notSucceeded).as("jobs not SUCCEEDED in the journal, the index and the bucket (%s)", context).isEmpty();
    assertThat(overInvoked).as("jobs whose model invocations exceed their attempts (%s)", context).isEmpty();
    assertThat(killLog).as(context).hasSize(scale.kills());
    assertThat(index).as("the index lists exactly the accepted jobs (%s)", context)
        .containsOnlyKeys(accepted.values().stream().map(Accepted::jobId).toList());
    assertThat(audit.status()).as("warmgate audit check --all: journal replay equals the index (%s)\n%s", context,
        audit.output()).isZero();
    assertThat(audit.output()).contains("checked " + accepted.size() + " job(s): " + accepted.size()
        + " match job_index, 0 differ");
  }

  // ---- the client

  /**
   * Submits one job as a careful client would: on a refused connection, a timeout, a 5xx or a 429 it waits a little
   * and sends the same body with the same Idempotency-Key again, to the next node, until it gets a 2xx. The key makes
   * the job id, so a submission that was stored but whose answer was lost comes back as the same job.
   */
  private void submit(int job, String key, int firstNode, Map<String, Accepted> accepted, Map<String, String> refused,
      AtomicInteger retried) throws InterruptedException {
    int pair = job % INPUT_PAIRS;
    String body = """
        {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/chaos/in/p%1$d_image.png",\
        "mask":"s3://gen3d/chaos/in/p%1$d_mask.png"},
         "output":"s3://gen3d/chaos/out/%2$s.ply","payload":{"job":"%2$s"}}""".formatted(pair, key);
    long giveUp = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    String last = null;
    for (int tries = 1; System.nanoTime() < giveUp; tries++) {
      Member to = members.get((firstNode + tries - 1) % NODES);
      try {
        Api.Response r = to.api().post("/v1/jobs", body, Map.of("Idempotency-Key", key));
        if (r.status() == 202) {
          accepted.put(key, new Accepted(key, r.body().path("jobId").asText(), tries));
          if (tries > 1) {
            retried.incrementAndGet();
          }
          return;
        }
        last = r.status() + " " + r.body();
        if (r.status() < 500 && r.status() != 429) {
          break; // the node refused the job itself: a client would not send it again unchanged
        }
      } catch (UncheckedIOException e) {
        last = "node " + to.index() + ": " + e.getCause();
      }
      Thread.sleep(200 + ThreadLocalRandom.current().nextInt(300)); // jitter; the client threads interleave anyway
    }
    refused.put(key, String.valueOf(last));
  }

  // ---- the faults

  /**
   * Kills nodes at the planned moments. A kill waits until the cluster has all three members Up again, since two
   * nodes down at once leaves a minority that downs itself (keep-majority): that is a lost quorum, not a crash.
   */
  private List<String> killAndRestart(long start, List<Long> killAt, List<Integer> victims, List<Long> downFor)
      throws Exception {
    List<String> done = new ArrayList<>();
    for (int k = 0; k < killAt.size(); k++) {
      sleepUntil(start, killAt.get(k));
      awaitFullCluster();
      Member victim = members.get(victims.get(k));
      ChildNode node = running.get(victim.index());
      node.kill9();
      String what = "t=" + elapsed(start) + " node" + victim.index() + " (" + node.process.exitValue() + ")";
      done.add(what);
      System.out.println(what + " killed; restarting in " + downFor.get(k) + " ms");
      Thread.sleep(downFor.get(k));
      launch(victim);
    }
    awaitFullCluster();
    return done;
  }

  /**
   * Until every member is Up and its HTTP edge answers. A node that exits by itself (it cannot start while the database
   * is away: a failed start
   * exits with status 1) is started again after a second, as Kubernetes or systemd would.
   */
  private void awaitFullCluster() {
    Await.until(CLUSTER_TIMEOUT, "all " + NODES + " members Up (logs: " + root + ")", () -> {
      for (Member m : members) {
        ChildNode node = running.get(m.index());
        if (!node.process.isAlive()) {
          System.out.println("node" + m.index() + " exited with " + node.process.exitValue() + "; starting it again");
          sleep(1_000);
          launch(m);
          return false;
        }
      }
      return members.stream().allMatch(m -> upMembers(m).size() == NODES)
          && members.stream().allMatch(ChaosIT::answers);
    });
  }

  private void launch(Member m) {
    try {
      running.set(m.index(), ChildNode.launch(m.conf(), m.httpPort(), m.log()));
      relaunches.incrementAndGet();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- the cluster

  private void startCluster() throws IOException {
    int modelPort = Ports.free();
    int[][] ports = IntStream.range(0, NODES).mapToObj(i -> new int[] {Ports.free(), Ports.free(),
        Ports.free()}).toArray(int[][]::new);
    List<String> contactPoints = Stream.of(ports).map(p -> "127.0.0.1:" + p[2]).toList();
    running = new AtomicReferenceArray<>(NODES);
    for (int i = 0; i < NODES; i++) {
      Path conf = config(i, ports[i], contactPoints, modelPort);
      Member m = new Member(i, ports[i][0], ports[i][1], ports[i][2], conf, root.resolve("node" + i + ".log"));
      members.add(m);
      running.set(i, ChildNode.launch(conf, m.httpPort(), m.log()));
    }
    awaitFullCluster();
  }

  private Path config(int index, int[] ports, List<String> contactPoints, int modelPort) throws IOException {
    Path conf = root.resolve("node" + index + ".conf");
    Files.writeString(conf, """
        include classpath("application.conf")
        warmgate.data-dir = "%s"
        warmgate.http.port = %d
        pekko.remote.artery.canonical.port = %d
        # The test's own PostgreSQL server, which it stops.
        warmgate.database.url = "%s"
        warmgate.database.user = "%s"
        warmgate.blob-store.local.root = "%s"
        warmgate.blob-store.local.watch-interval = 0s
        warmgate.endpoints.gen3d.process.state-dir = "%s"
        warmgate.endpoints.gen3d.process.port = %d
        warmgate.endpoints.gen3d.process.command = ["{java}", "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
          "-cp", "{classpath}", "warmgate.reliability.CountingModel", "--host", "{host}", "--port", "{port}",
          "--log", "%s", "--delay", "300"]
        warmgate.endpoints.gen3d.max-concurrency = 6
        warmgate.endpoint-defaults.status-poll-interval = 200ms
        warmgate.request.acquire-interval = 1s
        warmgate.cluster.discovery = config
        warmgate.cluster.contact-points = [%s]
        pekko.management.http.port = %d
        pekko.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr = %d
        # Down a killed node soon (the default waits 20 s for the partition to settle).
        pekko.cluster.split-brain-resolver.stable-after = 5s
        # As on Kubernetes (k8s/): a node that was downed or could not start exits, and its supervisor (here the
        # test) starts it again, instead of a JVM staying alive without a cluster.
        pekko.coordinated-shutdown.exit-jvm = on
        # Binding remoting's port takes seconds when both cores are busy; the default 3 s fails the start.
        pekko.remote.artery.bind.bind-timeout = 30s
        """.formatted(root.resolve("node" + index), ports[0], ports[1], postgres.url, OwnPostgres.USER,
        root.resolve("buckets"), root.resolve("endpoints"), modelPort, root.resolve("invocations.log"),
        contactPoints.stream().map(p -> "\"" + p + "\"").collect(Collectors.joining(", ")), ports[2], NODES)
        + TestTokens.hocon());
    return conf;
  }

  private static boolean answers(Member m) {
    try {
      return m.api().get("/v1/endpoints/gen3d").status() == 200;
    } catch (UncheckedIOException e) {
      return false;
    }
  }

  /** The addresses the node lists as Up, when it reports no unreachable member; empty when it does not answer. */
  private static List<String> upMembers(Member m) {
    return new Management(m.managementPort()).upMembers();
  }

  // ---- what the database says

  private long terminalInIndex() {
    return query("SELECT count(*) FROM job_index WHERE status IN ('SUCCEEDED', 'FAILED', 'CANCELLED')", r -> {
      r.next();
      return r.getLong(1);
    });
  }

  /** Whether job_index has folded each job's last event. */
  private boolean indexCaughtUp() {
    return query("""
        SELECT count(*) FROM (SELECT persistence_id, max(sequence_number) AS seq FROM event_journal
          WHERE persistence_id LIKE 'Request|%' GROUP BY persistence_id) j
        LEFT JOIN job_index i ON i.job_id = substr(j.persistence_id, length('Request|') + 1)
        WHERE i.last_seq_nr IS DISTINCT FROM j.seq""", r -> {
      r.next();
      return r.getLong(1) == 0;
    });
  }

  private Map<String, String> indexStatuses() {
    return query("SELECT job_id, status FROM job_index", r -> {
      Map<String, String> statuses = new HashMap<>();
      while (r.next()) {
        statuses.put(r.getString(1), r.getString(2));
      }
      return statuses;
    });
  }

  /** Each job's event types in journal order (the simple name of the class the serializer names). */
  private Map<String, List<String>> journalByJob() {
    return query("SELECT persistence_id, sequence_number, event_ser_manifest FROM event_journal "
        + "WHERE persistence_id LIKE 'Request|%' ORDER BY persistence_id, sequence_number", r -> {
      Map<String, List<String>> jobs = new HashMap<>();
      while (r.next()) {
        String jobId = r.getString(1).substring("Request|".length());
        List<String> types = jobs.computeIfAbsent(jobId, id -> new ArrayList<>());
        if (r.getLong(2) != types.size() + 1) {
          throw new AssertionError("journal of " + jobId + " has a gap at " + r.getLong(2));
        }
        String manifest = r.getString(3);
        types.add(manifest.substring(Math.max(manifest.lastIndexOf('$'), manifest.lastIndexOf('.'))
            + 1).replaceAll("#.*$", ""));
      }
      return jobs;
    });
  }

  private interface Rows<T> {
    T read(ResultSet r) throws SQLException;
  }

  private <T> T query(String sql, Rows<T> rows) {
    try (Connection c = postgres.connect(); PreparedStatement s = c.prepareStatement(
        sql); ResultSet r = s.executeQuery()) {
      return rows.read(r);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  // ---- the audit, as an operator runs it

  record Audit(int status, String output) {}

  /** {@code warmgate audit check --all} in a JVM of its own, with node 0's configuration. */
  private Audit audit() throws IOException, InterruptedException {
    Path conf = members.get(0).conf();
    Path out = root.resolve("audit.out");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-Xmx384m", "-XX:+UseSerialGC", "-Dconfig.file=" + conf,
        "-cp", System.getProperty("java.class.path"), "warmgate.node.Main", "audit", "check", "--all")
        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("warmgate audit check --all did not finish in 10 minutes");
    }
    return new Audit(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8).strip());
  }

  // ---- small things

  private static void upload(Path file, byte[] content) throws IOException {
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling("." + file.getFileName() + ".part");
    Files.write(tmp, content);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void sleepUntil(long start, long offsetMs) throws InterruptedException {
    long wait = offsetMs - (System.nanoTime() - start) / 1_000_000;
    if (wait > 0) {
      Thread.sleep(wait);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String elapsed(long start) {
    return (System.nanoTime() - start) / 1_000_000_000 + "s";
  }
}
