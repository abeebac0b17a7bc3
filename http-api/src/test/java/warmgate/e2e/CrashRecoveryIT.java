package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import warmgate.auth.TestTokens;
import warmgate.demo.SampleImages;
import warmgate.job.JobIds;

// Real processes: Warmgate in a child JVM on the H2 file journal, killed with SIGKILL and restarted on the same folder.
// Sharding does not remember jobs: what resumes them after the restart is the waker, from the job index: it wakes
// the job waiting for its mask and enlists the queued ones with their endpoint, whose grants then wake them.
class CrashRecoveryIT {
  private static final int JOBS = 6;
  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dataDir; // a failed run keeps the node's log
  private ChildNode node;

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.close();
    }
    ModelProcesses.killAll(dataDir.resolve("endpoints"));
  }

  private Path config(int httpPort) throws Exception {
    Path conf = dataDir.resolve("node.conf");
    Files.writeString(conf, """
        include classpath("application.conf")
        warmgate.data-dir = "%s"
        warmgate.http.port = %d
        pekko.remote.artery.canonical.port = %d
        warmgate.blob-store.local.watch-interval = 0s
        warmgate.endpoint-defaults.status-poll-interval = 200ms
        warmgate.request.acquire-interval = 1s
        # Queued jobs leave memory long before the endpoint is up: the grants after the restart must find them.
        warmgate.request.park-after = 1s
        warmgate.endpoints.gen3d.max-concurrency = 2
        warmgate.endpoints.gen3d.process.port = %d
        # A slow cold start, so the node dies while every job is still queued behind it.
        warmgate.endpoints.gen3d.process.command = ["{java}", "-Xmx64m", "-XX:+UseSerialGC", "-cp", "{classpath}",
          "warmgate.demo.DemoModelServer", "--host", "{host}", "--port", "{port}", "--startup-delay", "10s"]
        """.formatted(dataDir, httpPort, Ports.free(), Ports.free()) + TestTokens.hocon());
    return conf;
  }

  @Test
  void jobsParkedOrWaitingWhenTheNodeIsKilledAllCompleteExactlyOnceAfterARestartWithoutAnyNewNotification()
      throws Exception {
    Path input = dataDir.resolve("buckets/gen3d/users/dave/input");
    List<String> jobIds = new ArrayList<>();
    StringBuilder records = new StringBuilder();
    // One more job whose mask is not there yet: it waits for it, and must still be waiting for it after the restart.
    byte[] lateImage = SampleImages.image(30);
    TestNode.upload(input.resolve("late_image.png"), lateImage);
    String lateKey = "users/dave/input/late_image.png";
    String lateJob = JobIds.forUpload("gen3d", lateKey, null, TestNode.md5(lateImage));
    records.append("""
        {"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
         "s3":{"bucket":{"name":"gen3d"},"object":{"key":"%s","size":%d,"eTag":"%s"}}}"""
            .formatted(lateKey, lateImage.length, TestNode.md5(lateImage)));
    for (int i = 0; i < JOBS; i++) {
      int size = 40 + i; // different content, so different jobs
      byte[] image = SampleImages.image(size);
      TestNode.upload(input.resolve("shot" + i + "_mask.png"), SampleImages.mask(size));
      TestNode.upload(input.resolve("shot" + i + "_image.png"), image);
      String key = "users/dave/input/shot" + i + "_image.png";
      jobIds.add(JobIds.forUpload("gen3d", key, null, TestNode.md5(image)));
      records.append(",").append("""
          {"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
           "s3":{"bucket":{"name":"gen3d"},"object":{"key":"%s","size":%d,"eTag":"%s"}}}"""
              .formatted(key, image.length, TestNode.md5(image)));
    }
    int httpPort = Ports.free();
    Path conf = config(httpPort);
    Path log = dataDir.resolve("node.log");
    node = ChildNode.start(conf, httpPort, log);

    Api.Response accepted = node.api.post("/v1/notifications/s3", "{\"Records\":[" + records + "]}");
    assertThat(accepted.status()).as(node.logTail()).isEqualTo(200);
    assertThat(accepted.body().path("accepted")).hasSize(JOBS + 1);
    Await.until(TestNode.JOB_TIMEOUT, "every job to queue behind the starting endpoint",
        () -> jobIds.stream().allMatch(id -> "QUEUED".equals(node.api.status(id))));
    Await.until(TestNode.JOB_TIMEOUT, "the late job to record that its mask is missing",
        () -> node.api.eventTypes(lateJob).contains("InputsMissing"));
    assertThat(node.api.status(lateJob)).isEqualTo("WAITING_FOR_INPUTS");
    assertThat(node.api.get("/v1/endpoints/gen3d").body().path("state").asText()).isEqualTo("STARTING");
    Await.until(TestNode.JOB_TIMEOUT, "every queued job to park (park-after 1s)",
        () -> node.api.get("/v1/endpoints/gen3d").body().path("parked").asInt() == JOBS);
    String modelPid = Files.readString(dataDir.resolve("endpoints/gen3d.pid"));

    node.kill9();
    node = ChildNode.start(conf, httpPort, log);

    // Nobody sends anything again, and nothing here asks a job about itself (that would start it): the
    // restarted node's waker finds the unfinished jobs in the index. The mask arrives without a notification
    // (the folder watcher is off): only a job that is awake looks for it.
    TestNode.upload(input.resolve("late_mask.png"), SampleImages.mask(30));
    Await.until(TestNode.JOB_TIMEOUT, "the restarted node's waker to start every unfinished job (log: " + log + ")",
        () -> node.logText().contains("Job waker (waker started): woke 1 job(s) with work left and enlisted " + JOBS
            + " queued one(s)"));
    // Read from the job index and the journal only, neither of which starts a job.
    Await.until(TestNode.JOB_TIMEOUT, "the job list to show every job SUCCEEDED (log: " + log + ")", () -> {
      Api.Response listed = node.api.get("/v1/jobs?owner=dave&status=SUCCEEDED&limit=500");
      return listed.status() == 200 && listed.body().path("jobs").size() == JOBS + 1;
    });
    assertThat(node.api.eventTypes(lateJob)).containsExactly("JobSubmitted", "InputsMissing", "JobQueued",
        "AttemptStarted", "JobSucceeded");
    for (int i = 0; i < JOBS; i++) {
      String jobId = jobIds.get(i);
      List<String> types = new ArrayList<>();
      for (JsonNode e : node.api.get("/v1/jobs/" + jobId + "/events").body().path("events")) {
        types.add(e.path("type").asText());
      }
      assertThat(types).as("job %s ran once", jobId).containsExactly("JobSubmitted", "JobQueued", "AttemptStarted",
          "JobSucceeded");
      assertThat(dataDir.resolve("buckets/gen3d/users/dave/output/shot" + i + ".ply")).exists();
    }
    assertThat(Files.readString(dataDir.resolve("endpoints/gen3d.pid")))
        .as("the restarted node adopted the model process started before the crash").isEqualTo(modelPid);
  }
}
