package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import warmgate.auth.TestTokens;
import warmgate.demo.SampleImages;

// Real processes: Warmgate in a child JVM on the H2 file journal, its demo model warm, then the node stopped with
// SIGTERM.
class GracefulStopIT {
  /** Sharding's shutdown phase (10 s) plus the model's stop-grace leave the node this long at most. */
  private static final Duration GRACE = Duration.ofSeconds(30);
  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dataDir; // a failed run keeps the node's log
  private ChildNode node;

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.close();
    }
    ModelProcesses.killAll(dataDir.resolve("endpoints"));
  }

  private Path config(int httpPort, int modelPort) throws Exception {
    Path conf = dataDir.resolve("node.conf");
    Files.writeString(conf, """
        include classpath("application.conf")
        warmgate.data-dir = "%s"
        warmgate.http.port = %d
        pekko.remote.artery.canonical.port = %d
        warmgate.blob-store.local.watch-interval = 0s
        warmgate.endpoint-defaults.status-poll-interval = 200ms
        warmgate.request.acquire-interval = 1s
        warmgate.endpoints.gen3d.process.port = %d
        warmgate.endpoints.gen3d.process.command = ["{java}", "-Xmx64m", "-XX:+UseSerialGC", "-cp", "{classpath}",
          "warmgate.demo.DemoModelServer", "--host", "{host}", "--port", "{port}", "--startup-delay", "1s"]
        """.formatted(dataDir, httpPort, Ports.free(), modelPort) + TestTokens.hocon());
    return conf;
  }

  private static boolean free(int port) {
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void sigtermStopsTheWarmModelProcessAndClosesTheEndpointsLedger() throws Exception {
    int httpPort = Ports.free();
    int modelPort = Ports.free();
    Path conf = config(httpPort, modelPort);
    Path log = dataDir.resolve("node.log");
    node = ChildNode.start(conf, httpPort, log);
    Path input = dataDir.resolve("buckets/gen3d/manual/erin");
    TestNode.upload(input.resolve("cup_image.png"), SampleImages.image(24));
    TestNode.upload(input.resolve("cup_mask.png"), SampleImages.mask(24));
    Api.Response submitted = node.api.post("/v1/jobs", """
        {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/manual/erin/cup_image.png",
         "mask":"s3://gen3d/manual/erin/cup_mask.png"},"output":"s3://gen3d/manual/erin/out/cup.ply"}""");
    assertThat(submitted.status()).as(submitted.body().toString()).isIn(200, 201, 202);
    String jobId = submitted.body().path("jobId").asText();
    Await.until(TestNode.JOB_TIMEOUT, "the job to succeed (log: " + log + ")",
        () -> "SUCCEEDED".equals(node.api.status(jobId)));
    assertThat(node.api.get("/v1/endpoints/gen3d").body().path("state").asText()).isEqualTo("WARM");
    long modelPid = Long.parseLong(Files.readString(dataDir.resolve("endpoints/gen3d.pid")).trim().split("\\s+")[0]);
    ProcessHandle model = ProcessHandle.of(modelPid).orElseThrow();
    assertThat(free(modelPort)).as("the warm model holds its port").isFalse();

    long sigterm = System.nanoTime();
    node.process.destroy();
    assertThat(node.process.waitFor(GRACE.toSeconds(), TimeUnit.SECONDS)).as("the node exits (log: " + log
        + ")").isTrue();
    Duration nodeExit = Duration.ofNanos(System.nanoTime() - sigterm);
    model.onExit().get(5, TimeUnit.SECONDS);
    Duration modelGone = Duration.ofNanos(System.nanoTime() - sigterm);
    System.out.printf("SIGTERM -> node exited in %d ms, model process gone in %d ms%n", nodeExit.toMillis(),
        modelGone.toMillis());

    assertThat(model.isAlive()).as("the model process ended with its node").isFalse();
    assertThat(free(modelPort)).as("its port is free").isTrue();
    assertThat(node.logText()).contains("leaving this node while WARM");
    assertThat(Files.exists(dataDir.resolve("endpoints/gen3d.pid"))).isFalse();

    node = ChildNode.start(conf, httpPort, log);
    var endpoint = node.api.get("/v1/endpoints/gen3d").body();
    assertThat(endpoint.path("state").asText()).as(endpoint.toString()).isEqualTo("COLD");
    long billed = endpoint.path("billedSeconds").asLong();
    Thread.sleep(2_500);
    assertThat(node.api.get("/v1/endpoints/gen3d").body().path("billedSeconds").asLong())
        .as("the stretch closed when the node stopped").isEqualTo(billed);
    assertThat(billed).isLessThanOrEqualTo(Duration.ofNanos(System.nanoTime() - sigterm).toSeconds() + 60);
  }
}
