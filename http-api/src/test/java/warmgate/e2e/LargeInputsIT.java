package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import warmgate.auth.TestTokens;
import warmgate.demo.PaddedPng;
import warmgate.demo.SampleImages;

// Real processes: Warmgate in a child JVM started as bin/run starts it (-Xmx512m, -XX:+ExitOnOutOfMemoryError), on H2
// and a local bucket folder, sending the demo model (a child process) inputs whose bytes, held, would not fit its heap.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LargeInputsIT {
  private static final String HEAP = "-Xmx512m";
  private static final long HEAP_BYTES = 512L << 20;
  private static final Duration LARGE_JOB_TIMEOUT = Duration.ofMinutes(6);
  private Path dataDir;
  private ChildNode node;

  @BeforeAll
  void startNode(@TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception { // a failure keeps the log
    dataDir = dir;
    int httpPort = Ports.free();
    Path conf = dataDir.resolve("node.conf");
    Files.writeString(conf, """
        include classpath("application.conf")
        warmgate.data-dir = "%s"
        warmgate.http.port = %d
        pekko.remote.artery.canonical.port = %d
        warmgate.blob-store.local.watch-interval = 0s
        warmgate.endpoint-defaults.status-poll-interval = 200ms
        warmgate.endpoint-defaults.invoke-timeout = 5m
        warmgate.request.inputs-check-interval = 200ms
        warmgate.request.acquire-interval = 1s
        warmgate.request.attempt-timeout = 10m
        # gen3d keeps the process provider's default limits (256m, 512m) and the default budget (25%% of the heap).
        warmgate.endpoints.gen3d.max-concurrency = 20
        warmgate.endpoints.gen3d.process.port = %d
        warmgate.endpoints.gen3d.process.command = ["{java}", "-Xmx64m", "-XX:+UseSerialGC", "-cp", "{classpath}",
          "warmgate.demo.DemoModelServer", "--host", "{host}", "--port", "{port}", "--startup-delay", "1s"]
        # The same demo model with its limits raised.
        warmgate.endpoints.large {
          max-input-bytes = 1g
          max-job-input-bytes = 1g
          process.port = %d
          process.command = ["{java}", "-Xmx64m", "-XX:+UseSerialGC", "-cp", "{classpath}",
            "warmgate.demo.DemoModelServer", "--host", "{host}", "--port", "{port}", "--startup-delay", "1s"]
        }
        """.formatted(dataDir, httpPort, Ports.free(), Ports.free(), Ports.free()) + TestTokens.hocon());
    node = ChildNode.start(conf, httpPort, dataDir.resolve("node.log"),
        List.of(HEAP, "-XX:+ExitOnOutOfMemoryError", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Xlog:gc:file=" + dataDir.resolve("gc.log")));
  }

  @AfterAll
  void stopNode() throws Exception {
    if (node != null) {
      node.close();
    }
    ModelProcesses.killAll(dataDir.resolve("endpoints"));
  }

  @Test
  void aThreeHundredMegabyteInputIsRefusedFromItsSizeWithoutAnAttempt() throws Exception {
    Path bucket = dataDir.resolve("buckets/gen3d/manual/erin");
    Files.createDirectories(bucket);
    PaddedPng.write(bucket.resolve("huge_image.png"), 64, 300_000_000L);
    TestNode.upload(bucket.resolve("huge_mask.png"), SampleImages.mask(64));

    String jobId = submit("gen3d", "manual/erin/huge");
    Await.until(TestNode.JOB_TIMEOUT, "the job to fail", () -> "FAILED".equals(node.api.status(jobId)));

    JsonNode job = node.api.get("/v1/jobs/" + jobId).body();
    assertThat(job.toString()).contains("s3://gen3d/manual/erin/huge_image.png").contains("300000000")
        .contains("max-input-bytes");
    assertThat(job.path("attempts").asInt()).isZero();
    assertThat(node.api.eventTypes(jobId)).as("failed before it asked for a slot (its error report may follow)")
        .startsWith("JobSubmitted", "JobFailed").doesNotContain("JobQueued", "AttemptStarted");
    assertThat(node.process.isAlive()).isTrue();
    assertThat(node.logText()).doesNotContain("OutOfMemoryError");
  }

  @Test
  void aThreeHundredMegabyteInputStreamsThroughTheDemoModelOnceItsEndpointsLimitIsRaised() throws Exception {
    long size = 300_000_000L; // held with its base64 (400 MB), more than the node's heap
    assertThat(size * 7 / 3).isGreaterThan(HEAP_BYTES);
    Path bucket = dataDir.resolve("buckets/gen3d/manual/frank");
    Files.createDirectories(bucket);
    PaddedPng.write(bucket.resolve("big_image.png"), 64, size);
    TestNode.upload(bucket.resolve("big_mask.png"), SampleImages.mask(64));

    String jobId = submit("large", "manual/frank/big");
    Await.until(LARGE_JOB_TIMEOUT, "the job to succeed (log: " + node.log + ")", () -> {
      String status = node.api.status(jobId);
      assertThat(status).as(() -> node.api.get("/v1/jobs/" + jobId).body().toString()).isNotEqualTo("FAILED");
      assertThat(node.process.isAlive()).as("the node is up (it exits on OutOfMemoryError)").isTrue();
      return "SUCCEEDED".equals(status);
    });

    assertThat(node.api.get("/v1/jobs/" + jobId).body().path("attempts").asInt()).isEqualTo(1);
    String ply = Files.readString(dataDir.resolve("buckets/gen3d/manual/frank/out/big.ply"));
    assertThat(ply.lines().filter(l -> l.startsWith("element vertex ")).findFirst().orElseThrow())
        .as("the model read the picture inside the padded PNG").matches("element vertex \\d{3,}");
    assertThat(node.process.isAlive()).isTrue();
    assertThat(node.logText()).doesNotContain("OutOfMemoryError");
    assertThat(largestHeapAfterGc()).as("the live heap, from the node's GC log").isLessThan(size / 3);
  }

  @Test
  void twentyConcurrentJobsWaitForTheirShareOfTheBudgetAndAllSucceed() throws Exception {
    int jobs = 20;
    long size = 20_000_000L; // 20 of them are three times the budget of 128 MiB; it holds six at once
    Path bucket = dataDir.resolve("buckets/gen3d/manual/gina");
    Files.createDirectories(bucket);
    List<String> jobIds = new ArrayList<>();
    for (int i = 0; i < jobs; i++) {
      PaddedPng.write(bucket.resolve("shot" + i + "_image.png"), 32 + i, size);
      TestNode.upload(bucket.resolve("shot" + i + "_mask.png"), SampleImages.mask(32 + i));
    }
    double waitsBefore = metric("warmgate_payload_budget_waits_total");

    for (int i = 0; i < jobs; i++) {
      jobIds.add(submit("gen3d", "manual/gina/shot" + i));
    }
    Await.until(LARGE_JOB_TIMEOUT, "every job to succeed (log: " + node.log + ")", () -> {
      assertThat(node.process.isAlive()).as("the node is up (it exits on OutOfMemoryError)").isTrue();
      return jobIds.stream().allMatch(id -> {
        String status = node.api.status(id);
        assertThat(status).as(id).isNotEqualTo("FAILED");
        return "SUCCEEDED".equals(status);
      });
    });

    for (int i = 0; i < jobs; i++) {
      assertThat(node.api.get("/v1/jobs/" + jobIds.get(i)).body().path("attempts").asInt()).isEqualTo(1);
      assertThat(dataDir.resolve("buckets/gen3d/manual/gina/out/shot" + i + ".ply")).exists();
    }
    // 25% of what the JVM reports as its largest heap, a little under -Xmx (one survivor space less)
    assertThat(metric("warmgate_payload_budget_bytes")).isBetween(HEAP_BYTES / 5.0, HEAP_BYTES / 4.0);
    assertThat(metric("warmgate_payload_budget_waits_total") - waitsBefore).as("attempts that waited for their share")
        .isPositive();
    assertThat(metric("warmgate_payload_budget_wait_seconds_total")).isPositive();
    assertThat(metric("warmgate_payload_budget_in_use_bytes")).as("every share given back").isZero();
    assertThat(metric("warmgate_payload_budget_waiting_attempts")).isZero();
    assertThat(node.logText()).doesNotContain("OutOfMemoryError");
  }

  /** Submits the job of {@code <prefix>_image.png} and {@code <prefix>_mask.png} in the gen3d bucket. */
  private String submit(String endpoint, String prefix) {
    int slash = prefix.lastIndexOf('/');
    String output = prefix.substring(0, slash) + "/out" + prefix.substring(slash) + ".ply";
    Api.Response submitted = node.api.post("/v1/jobs", """
        {"endpoint":"%s","inputs":{"image":"s3://gen3d/%s_image.png","mask":"s3://gen3d/%s_mask.png"},
         "output":"s3://gen3d/%s"}""".formatted(endpoint, prefix, prefix, output));
    assertThat(submitted.status()).as(String.valueOf(submitted.body())).isIn(200, 201, 202);
    return submitted.body().path("jobId").asText();
  }

  /** The most the heap held right after a collection, over the node's life so far (0 before the first). */
  private long largestHeapAfterGc() throws java.io.IOException {
    String log = Files.readString(dataDir.resolve("gc.log"));
    Matcher m = Pattern.compile("\\d+([KMG])->(\\d+)([KMG])\\(").matcher(log); // "Pause Young ... 90M->12M(491M)"
    long largest = 0;
    while (m.find()) {
      long shift = switch (m.group(3)) {
        case "K" -> 10;
        case "M" -> 20;
        default -> 30;
      };
      largest = Math.max(largest, Long.parseLong(m.group(2)) << shift);
    }
    return largest;
  }

  /** A sample without labels from {@code /metrics}, 0 when it is not there yet. */
  private double metric(String name) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*\\})? (\\S+)$")
        .matcher(node.api.text("/metrics"));
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }
}
