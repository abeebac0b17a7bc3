package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import warmgate.auth.TestTokens;
import warmgate.demo.SampleImages;
import warmgate.job.JobIds;

// Real H2 file journal, real files in a watched bucket folder, the demo model as a real child process; tokens on.
class EmbeddedDefaultIT {
  @TempDir Path dataDir;
  private TestNode node;

  @AfterEach
  void stop() {
    if (node != null) {
      node.closeAll();
    }
  }

  @Test
  void droppedImageAndMaskColdStartTheModelAndProduceAPointCloud() throws Exception {
    node = TestNode.start(dataDir, TestNode.defaults(dataDir, Ports.free()));
    Path input = node.bucket("gen3d").resolve("users/alice/input");
    byte[] image = SampleImages.image(64);
    String imageKey = "users/alice/input/ball_image.png";
    String jobId = JobIds.forUpload("gen3d", imageKey, null, TestNode.md5(image));
    assertThat(node.api.get("/v1/endpoints/gen3d").body().path("state").asText()).isEqualTo("COLD");

    // The image arrives first; its job waits for the mask instead of failing.
    TestNode.upload(input.resolve("ball_image.png"), image);
    Await.until(TestNode.JOB_TIMEOUT, "the job to wait for its mask",
        () -> "WAITING_FOR_INPUTS".equals(node.api.status(jobId)));
    TestNode.upload(input.resolve("ball_mask.png"), SampleImages.mask(64));

    Await.until(TestNode.JOB_TIMEOUT, "the endpoint to cold-start",
        () -> "STARTING".equals(node.api.get("/v1/endpoints/gen3d").body().path("state").asText()));
    assertThat(node.api.status(jobId)).isEqualTo("QUEUED");
    Path ply = node.bucket("gen3d").resolve("users/alice/output/ball.ply");
    Await.until(TestNode.JOB_TIMEOUT, "the point cloud to appear", () -> Files.exists(ply));
    Await.until(TestNode.JOB_TIMEOUT, "the job to succeed", () -> "SUCCEEDED".equals(node.api.status(jobId)));

    String header = Files.readString(ply, StandardCharsets.US_ASCII);
    assertThat(header).startsWith("ply\nformat ascii 1.0\n");
    assertThat(header.lines().filter(l -> l.startsWith("element vertex ")).findFirst().orElseThrow())
        .as("the masked disc becomes points").matches("element vertex \\d{3,}");
    JsonNode job = node.api.get("/v1/jobs/" + jobId).body();
    assertThat(job.path("attempts").asInt()).isEqualTo(1);
    assertThat(job.path("owner").asText()).isEqualTo("alice");
    assertThat(node.api.as(TestTokens.ALICE).status(jobId)).as("the user in the key owns the job")
        .isEqualTo("SUCCEEDED");
    assertThat(node.api.as(TestTokens.BOB).get("/v1/jobs/"
        + jobId).status()).as("another user does not see it").isEqualTo(404);
    assertThat(node.api.as(null).get("/v1/jobs/" + jobId).status()).isEqualTo(401);
    assertThat(job.path("output").asText()).isEqualTo("s3://gen3d/users/alice/output/ball.ply");
    JsonNode endpoint = node.api.get("/v1/endpoints/gen3d").body();
    assertThat(endpoint.path("state").asText()).isEqualTo("WARM");
    assertThat(endpoint.path("billedSeconds").asLong()).isGreaterThanOrEqualTo(1);

    assertThat(eventTypes(jobId)).containsExactly("JobSubmitted", "InputsMissing", "JobQueued", "AttemptStarted",
        "JobSucceeded");
  }

  @Test
  void finishedJobIsStillThereAfterTheNodeRestartsOnTheSameFolder() throws Exception {
    Map<String, Object> settings = TestNode.defaults(dataDir, Ports.free());
    node = TestNode.start(dataDir, settings);
    byte[] image = SampleImages.image(32);
    TestNode.upload(node.bucket("gen3d").resolve("users/bob/input/cube_mask.png"), SampleImages.mask(32));
    TestNode.upload(node.bucket("gen3d").resolve("users/bob/input/cube_image.png"), image);
    String jobId = JobIds.forUpload("gen3d", "users/bob/input/cube_image.png", null, TestNode.md5(image));
    Await.until(TestNode.JOB_TIMEOUT, "the job to succeed", () -> "SUCCEEDED".equals(node.api.status(jobId)));
    List<String> before = eventTypes(jobId);
    node.close();

    node = TestNode.start(dataDir, settings);

    assertThat(node.api.status(jobId)).isEqualTo("SUCCEEDED");
    assertThat(eventTypes(jobId)).isEqualTo(before);
    assertThat(node.api.get("/v1/jobs/" + jobId).body().path("attempts").asInt()).isEqualTo(1);
    assertThat(node.api.post("/v1/jobs/" + jobId + "/cancel",
        "").status()).as("a finished job cannot be cancelled").isEqualTo(409);
  }

  @Test
  void jobWaitingForItsInputsIsCancelledForGood() throws Exception {
    node = TestNode.start(dataDir, TestNode.defaults(dataDir, Ports.free()));
    Api.Response submitted = node.api.post("/v1/jobs", """
        {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/manual/carol/vase_image.png",
         "mask":"s3://gen3d/manual/carol/vase_mask.png"},"output":"s3://gen3d/manual/carol/out/vase.ply"}""");
    String jobId = submitted.body().path("jobId").asText();
    Await.until(TestNode.JOB_TIMEOUT, "the job to wait for its inputs",
        () -> "WAITING_FOR_INPUTS".equals(node.api.status(jobId)));

    Api.Response cancelled = node.api.post("/v1/jobs/" + jobId + "/cancel", "");

    assertThat(cancelled.status()).isEqualTo(200);
    assertThat(cancelled.body().path("status").asText()).isEqualTo("CANCELLED");
    TestNode.upload(node.bucket("gen3d").resolve("manual/carol/vase_mask.png"), SampleImages.mask(16));
    TestNode.upload(node.bucket("gen3d").resolve("manual/carol/vase_image.png"), SampleImages.image(16));
    // Outside every route, so the uploads start no job of their own; a live job would see them within 200 ms.
    Thread.sleep(1_500);
    assertThat(node.api.status(jobId)).isEqualTo("CANCELLED");
    assertThat(eventTypes(jobId)).containsExactly("JobSubmitted", "JobCancelled");
    assertThat(node.api.get("/v1/endpoints/gen3d").body().path("state").asText()).isEqualTo("COLD");
  }

  private List<String> eventTypes(String jobId) {
    return node.api.eventTypes(jobId);
  }

  @Test
  void endpointIsPreWarmedAndStoppedByHand() throws Exception {
    node = TestNode.start(dataDir, TestNode.defaults(dataDir, Ports.free()));

    Api.Response started = node.api.post("/v1/endpoints/gen3d/start", "");
    assertThat(started.status()).isEqualTo(202);
    assertThat(started.body().path("state").asText()).isEqualTo("STARTING");
    Api.Response refused = node.api.post("/v1/endpoints/gen3d/stop", "");
    assertThat(refused.status()).isEqualTo(409);
    assertThat(refused.body().path("error").path("message").asText()).contains("starting");

    Await.until(TestNode.JOB_TIMEOUT, "the endpoint to come into service",
        () -> "WARM".equals(node.api.get("/v1/endpoints/gen3d").body().path("state").asText()));
    assertThat(node.api.post("/v1/endpoints/gen3d/stop", "").status()).isEqualTo(202);
    Await.until(TestNode.JOB_TIMEOUT, "the endpoint to stop",
        () -> "COLD".equals(node.api.get("/v1/endpoints/gen3d").body().path("state").asText()));

    JsonNode endpoint = node.api.get("/v1/endpoints/gen3d").body();
    assertThat(endpoint.path("billedSeconds").asLong()).isGreaterThanOrEqualTo(1);
    assertThat(endpoint.path("detail").asText()).isEqualTo("no model process");
  }
}
