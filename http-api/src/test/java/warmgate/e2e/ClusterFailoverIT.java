package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import warmgate.demo.SampleImages;

// Real processes: three Warmgate JVMs on loopback forming one cluster through Cluster Bootstrap (config discovery), a
// fresh PostgreSQL database as their shared journal, one shared bucket folder, the demo model as a real child process.
class ClusterFailoverIT {
  private static final int NODES = 3;
  private static final int JOBS = 30;
  private static final Duration CLUSTER_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration JOBS_TIMEOUT = Duration.ofSeconds(150);

  /** Under target/, kept after the run: each node's log, the bucket, the model's log. */
  private Path root;
  private Postgres postgres;
  private final List<Member> members = new ArrayList<>();

  /** One node: its JVM and its ports. */
  record Member(ChildNode node, int httpPort, int remotePort, int managementPort) {
    Api api() {
      return node.api;
    }

    Management management() {
      return new Management(managementPort);
    }
  }

  @BeforeEach
  void createFolderAndDatabase() throws IOException {
    root = Files.createTempDirectory(Files.createDirectories(Path.of("target",
        "cluster-failover-it")).toAbsolutePath(), "run-");
    postgres = new Postgres();
  }

  @AfterEach
  void stop() throws Exception {
    for (Member m : members) {
      m.node().close();
      // The failsafe report keeps what each node said, for CI where target/ is not kept.
      System.out.println("---- " + m.node().log + "\n" + (Files.exists(m.node().log)
          ? Files.readString(m.node().log, StandardCharsets.UTF_8) : "(missing; the folder holds " + listing(root)
              + ")"));
    }
    ModelProcesses.killAll(root.resolve("endpoints"));
    if (postgres != null) {
      postgres.close();
    }
  }

  private Path config(int index, int httpPort, int remotePort, int managementPort, List<String> contactPoints,
      int modelPort)
      throws IOException {
    Path conf = root.resolve("node" + index + ".conf");
    Files.writeString(conf, ChildNode.clusterNodeHocon(root, "node" + index, httpPort, remotePort, managementPort,
        postgres, modelPort) + """
        warmgate.cluster.discovery = config
        warmgate.cluster.contact-points = [%s]
        pekko.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr = %d
        """.formatted(contactPoints.stream().map(p -> "\"" + p + "\"").collect(Collectors.joining(", ")), NODES));
    return conf;
  }

  private void startCluster() throws Exception {
    int modelPort = Ports.free();
    int[][] ports = IntStream.range(0, NODES).mapToObj(i -> new int[] {Ports.free(), Ports.free(),
        Ports.free()}).toArray(int[][]::new);
    List<String> contactPoints = Stream.of(ports).map(p -> "127.0.0.1:" + p[2]).toList();
    for (int i = 0; i < NODES; i++) {
      Path conf = config(i, ports[i][0], ports[i][1], ports[i][2], contactPoints, modelPort);
      members.add(new Member(ChildNode.launch(conf, ports[i][0], root.resolve("node" + i + ".log")), ports[i][0],
          ports[i][1], ports[i][2]));
    }
    ChildNode.awaitAnswering(members.stream().map(Member::node).toList(), CLUSTER_TIMEOUT);
    for (Member m : members) {
      Await.until(CLUSTER_TIMEOUT, "node on " + m.httpPort() + " to be ready (log: " + m.node().log + ")",
          () -> m.management().ready());
    }
    Await.until(CLUSTER_TIMEOUT, "one cluster of " + NODES + " Up members",
        () -> members.stream().allMatch(m -> m.management().upMembers().size() == NODES));
  }

  @Test
  void everyJobCompletesExactlyOnceWhenANodeIsKilledWithJobsInFlight() throws Exception {
    startCluster();
    Path bucket = root.resolve("buckets/gen3d");
    List<String> jobIds = new ArrayList<>();
    for (int i = 0; i < JOBS; i++) {
      int size = 24 + i; // different content per job
      TestNode.upload(bucket.resolve("cluster/in/shot" + i + "_image.png"), SampleImages.image(size));
      TestNode.upload(bucket.resolve("cluster/in/shot" + i + "_mask.png"), SampleImages.mask(size));
    }
    for (int i = 0; i < JOBS; i++) {
      Member to = members.get(i % NODES); // spread over every node's edge
      Api.Response accepted = to.api().post("/v1/jobs", """
          {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/cluster/in/shot%1$d_image.png",\
          "mask":"s3://gen3d/cluster/in/shot%1$d_mask.png"},
           "output":"s3://gen3d/cluster/out/shot%1$d.ply"}""".formatted(i));
      assertThat(accepted.status()).as("job %d on node %d: %s", i, i % NODES, accepted.body()).isEqualTo(202);
      jobIds.add(accepted.body().path("jobId").asText());
    }

    // Kill the oldest member: it hosts the shard coordinator and every cluster singleton, the hardest node to lose.
    Await.until(JOBS_TIMEOUT, "the first output (the model is warm and jobs are running)", () -> outputs(bucket) > 0);
    Member victim = oldest();
    int doneAtKill = outputs(bucket);
    victim.node().kill9();
    assertThat(victim.node().process.exitValue()).as("ended by SIGKILL (128 + 9)").isEqualTo(137);
    assertThat(doneAtKill).as("jobs were still in flight when the node died").isLessThan(JOBS);
    List<Member> survivors = members.stream().filter(m -> m != victim).toList();

    // Nobody submits anything again: the survivors take over the dead node's shards and finish its jobs.
    Await.until(JOBS_TIMEOUT, "every job to succeed on the survivors (logs: " + root + ")", () -> jobIds.stream()
        .allMatch(id -> survivors.stream().anyMatch(m -> "SUCCEEDED".equals(m.api().status(id)))));
    Await.until(CLUSTER_TIMEOUT, "the split brain resolver to down the killed node", () -> survivors.stream()
        .allMatch(m -> m.management().upMembers().size() == NODES - 1
            && !m.management().upMembers().contains(address(victim))));

    for (int i = 0; i < JOBS; i++) {
      String jobId = jobIds.get(i);
      for (Member m : survivors) {
        assertThat(m.api().status(jobId)).as("job %s seen from node %d", jobId, m.httpPort()).isEqualTo("SUCCEEDED");
      }
      List<String> types = survivors.get(i % survivors.size()).api().eventTypes(jobId);
      assertThat(types).as("job %s completed exactly once: %s", jobId, types).containsOnlyOnce("JobSucceeded");
      assertThat(types.get(types.size() - 1)).as("nothing ran after it succeeded").isEqualTo("JobSucceeded");
      assertThat(Files.readString(bucket.resolve("cluster/out/shot" + i + ".ply"),
          StandardCharsets.US_ASCII)).startsWith("ply\n");
    }
  }

  private static List<String> listing(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      return List.of(e.toString());
    }
  }

  private static int outputs(Path bucket) {
    Path out = bucket.resolve("cluster/out");
    if (!Files.isDirectory(out)) {
      return 0;
    }
    try (Stream<Path> files = Files.list(out)) {
      return (int) files.filter(f -> f.getFileName().toString().endsWith(".ply")).count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The member every node names oldest in Pekko Management's cluster view. */
  private Member oldest() {
    String oldest = members.get(0).management().oldest();
    return members.stream().filter(m -> address(m).equals(oldest)).findFirst()
        .orElseThrow(() -> new AssertionError("no node is the oldest member " + oldest));
  }

  private static String address(Member m) {
    return "pekko://warmgate@127.0.0.1:" + m.remotePort();
  }
}
