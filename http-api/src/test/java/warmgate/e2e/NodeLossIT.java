package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import warmgate.auth.TestTokens;
import warmgate.demo.SampleImages;
import warmgate.job.JobIds;

// Real processes: two Warmgate nodes in child JVMs forming one cluster on a fresh PostgreSQL database, sharing
// one data folder (bucket, model process); the second is killed with SIGKILL while it holds jobs.
class NodeLossIT {
  private static final int JOBS = 8;
  private static final Duration LONG = Duration.ofSeconds(120);
  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dataDir; // a failed run keeps the nodes' logs
  private Postgres postgres;
  private ChildNode first;
  private ChildNode second;

  @AfterEach
  void stop() throws Exception {
    for (ChildNode node : new ChildNode[] {second, first}) {
      if (node != null) {
        node.close();
      }
    }
    ModelProcesses.killAll(dataDir.resolve("endpoints"));
    if (postgres != null) {
      postgres.close();
    }
  }

  private Path config(String name, int httpPort, int remotePort, int seedPort, int modelPort) throws IOException {
    Path conf = dataDir.resolve(name + ".conf");
    Files.writeString(conf, """
        include classpath("application.conf")
        warmgate.data-dir = "%s"
        warmgate.database.url = "%s"
        warmgate.database.user = "%s"
        warmgate.http.port = %d
        pekko.remote.artery.canonical.port = %d
        pekko.cluster.seed-nodes = ["pekko://warmgate@127.0.0.1:%d"]
        # Two nodes: keep-majority keeps the side with the lowest address, the first node's (its port is lower).
        pekko.cluster.split-brain-resolver.stable-after = 3s
        pekko.cluster.sharding.rebalance-interval = 2s
        warmgate.blob-store.local.watch-interval = 0s
        warmgate.endpoint-defaults.status-poll-interval = 200ms
        warmgate.request.acquire-interval = 1s
        # Queued jobs stay in memory, so a shard that moves carries live jobs: the hand-off is what this test is
        # about. Parked jobs (the default) move with nothing; ChaosIT and ClusterFailoverIT kill nodes with them.
        warmgate.request.park-at-once = off
        warmgate.endpoints.gen3d.max-concurrency = 2
        warmgate.endpoints.gen3d.process.port = %d
        # A slow cold start: every job is still queued when the second node dies.
        warmgate.endpoints.gen3d.process.command = ["{java}", "-Xmx64m", "-XX:+UseSerialGC", "-cp", "{classpath}",
          "warmgate.demo.DemoModelServer", "--host", "{host}", "--port", "{port}", "--startup-delay", "45s"]
        """
            .formatted(dataDir, postgres.url, Postgres.USER, httpPort, remotePort, seedPort, modelPort)
                + TestTokens.hocon());
    return conf;
  }

  @Test
  void jobsOfAKilledNodeAreWokenOnTheSurvivorAndJobsOfAMovedShardContinueWhereTheyMoved() throws Exception {
    postgres = new Postgres();
    int port1 = Ports.free();
    int port2 = Ports.free();
    int remoteA = Math.min(port1, port2);
    int remoteB = Math.max(port1, port2);
    int httpA = Ports.free();
    int httpB = Ports.free();
    int modelPort = Ports.free();
    Path logA = dataDir.resolve("first.log");
    Path logB = dataDir.resolve("second.log");
    first = ChildNode.start(config("first", httpA, remoteA, remoteA, modelPort), httpA, logA);

    // Every job starts on the first node, the only one.
    Path input = dataDir.resolve("buckets/gen3d/users/erin/input");
    List<String> jobIds = new ArrayList<>();
    StringBuilder records = new StringBuilder();
    for (int i = 0; i < JOBS; i++) {
      byte[] image = SampleImages.image(40 + i);
      TestNode.upload(input.resolve("pic" + i + "_mask.png"), SampleImages.mask(40 + i));
      TestNode.upload(input.resolve("pic" + i + "_image.png"), image);
      String key = "users/erin/input/pic" + i + "_image.png";
      jobIds.add(JobIds.forUpload("gen3d", key, null, TestNode.md5(image)));
      records.append(i == 0 ? "" : ",").append("""
          {"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
           "s3":{"bucket":{"name":"gen3d"},"object":{"key":"%s","size":%d,"eTag":"%s"}}}"""
              .formatted(key, image.length, TestNode.md5(image)));
    }
    assertThat(first.api.post("/v1/notifications/s3", "{\"Records\":[" + records + "]}").status()).isEqualTo(200);
    Await.until(LONG, "every job to queue behind the starting endpoint",
        () -> jobIds.stream().allMatch(id -> "QUEUED".equals(first.api.status(id))));

    // A second node joins; sharding moves some shards to it. Their jobs stop on the first node and must go on
    // on the second without anyone asking them: nothing remembers them, and the waker does not run on a join.
    // At DEBUG, which is where a queued job's resumption is logged: it is routine for every parked job.
    second = ChildNode.launch(config("second", httpB, remoteB, remoteA, modelPort), httpB, logB, ChildNode.TEST_JVM,
        Map.of("WARMGATE_LOG_LEVEL", "DEBUG"));
    second.awaitAnswering();
    Await.until(LONG, "a shard with jobs to move to the second node (log: " + logA + ")",
        () -> first.logText().contains("moves with its shard"));
    Await.until(LONG, "a moved job to resume on the second node (log: " + logB + ")",
        () -> second.logText().contains("resumes QUEUED"));

    // Then the second node dies with them. Once it is removed, the waker on the first node starts its jobs.
    second.kill9();
    Await.until(LONG, "the first node's waker to run for the removed member (log: " + logA + ")",
        () -> first.logText().contains("127.0.0.1:" + remoteB + " removed): woke"));

    // Read from the job index and the journal only, neither of which starts a job.
    Await.until(LONG, "every job to succeed (log: " + logA + ")", () -> {
      Api.Response listed = first.api.get("/v1/jobs?owner=erin&status=SUCCEEDED&limit=100");
      return listed.status() == 200 && listed.body().path("jobs").size() == JOBS;
    });
    for (String jobId : jobIds) {
      assertThat(first.api.eventTypes(jobId)).as("job %s ran once", jobId)
          .containsExactly("JobSubmitted", "JobQueued", "AttemptStarted", "JobSucceeded");
    }
  }
}
