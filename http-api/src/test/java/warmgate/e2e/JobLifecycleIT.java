package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.demo.SampleImages;
import warmgate.request.HttpWebhooks;

// Real H2 file journal, real bucket folders, the demo model as a child process, a real callback receiver on loopback.
class JobLifecycleIT {
  private static final String SECRET = "it-secret";

  @TempDir Path dataDir;
  private TestNode node;
  private HttpServer receiver;
  private final List<Delivery> deliveries = new CopyOnWriteArrayList<>();

  record Delivery(String id, String timestamp, String signature, String body) {}

  @BeforeEach
  void startReceiver() throws Exception {
    receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext("/hook", exchange -> {
      var headers = exchange.getRequestHeaders();
      deliveries.add(new Delivery(headers.getFirst("webhook-id"), headers.getFirst("webhook-timestamp"),
          headers.getFirst("webhook-signature"), new String(exchange.getRequestBody().readAllBytes(),
              StandardCharsets.UTF_8)));
      exchange.sendResponseHeaders(204, -1);
      exchange.close();
    });
    receiver.start();
  }

  @AfterEach
  void stop() {
    if (node != null) {
      node.closeAll();
    }
    receiver.stop(0);
  }

  private Map<String, Object> settings() {
    Map<String, Object> settings = TestNode.defaults(dataDir, Ports.free());
    settings.put("warmgate.webhooks.secret", SECRET);
    settings.put("warmgate.webhooks.allowed-hosts", List.of("127.0.0.1"));
    settings.put("warmgate.webhooks.allow-http", true);
    settings.put("warmgate.request.inputs-timeout", "2s");
    // Jobs posted by hand live under manual/{owner}/, out of the Gen3D route's way (its uploads are under users/).
    settings.put("warmgate.auth.owner-scope", "manual/{owner}/");
    return settings;
  }

  private String hook() {
    return "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
  }

  @Test
  void reviewedJobIsHeldUntilApprovedAndEveryStepIsCalledBackSigned() throws Exception {
    node = TestNode.start(dataDir, settings());
    Path folder = node.bucket("gen3d").resolve("manual/alice");
    TestNode.upload(folder.resolve("cup_image.png"), SampleImages.image(32));
    TestNode.upload(folder.resolve("cup_mask.png"), SampleImages.mask(32));

    Api.Response submitted = node.api.as(TestTokens.ALICE).post("/v1/jobs", """
        {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/manual/alice/cup_image.png",\
        "mask":"s3://gen3d/manual/alice/cup_mask.png"},
         "output":"s3://gen3d/manual/alice/out/cup.ply","requireReview":true,"callbackUrl":"%s"}""".formatted(hook()));
    assertThat(submitted.status()).as(submitted.body().toString()).isEqualTo(202);
    String jobId = submitted.body().path("jobId").asText();

    Await.until(TestNode.JOB_TIMEOUT, "the result to wait for review",
        () -> "AWAITING_REVIEW".equals(node.api.status(jobId)));
    Path output = folder.resolve("out/cup.ply");
    assertThat(output).as("nothing is published before approval").doesNotExist();
    String held = node.api.get("/v1/jobs/" + jobId).body().path("heldOutput").asText();
    assertThat(held).isEqualTo("s3://gen3d/.warmgate/review/" + jobId + "/manual/alice/out/cup.ply");
    assertThat(node.bucket("gen3d").resolve(held.substring("s3://gen3d/".length()))).exists();
    assertThat(node.api.as(TestTokens.ALICE).post("/v1/jobs/" + jobId + "/approve", "").status())
        .as("the owner does not review her own job").isEqualTo(403);

    Api.Response approved = node.api.post("/v1/jobs/" + jobId + "/approve", "");

    assertThat(approved.status()).isEqualTo(200);
    assertThat(approved.body().path("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(Files.readString(output, StandardCharsets.US_ASCII)).startsWith("ply\n");
    Await.until(TestNode.JOB_TIMEOUT, "both callbacks", () -> deliveries.size() == 2);
    assertThat(deliveries).extracting(Delivery::id).containsExactly(jobId + ".0.awaiting_review", jobId
        + ".0.succeeded");
    for (Delivery d : deliveries) {
      assertThat(d.signature()).as("signed with the shared secret over id.timestamp.body")
          .isEqualTo("v1," + HttpWebhooks.sign(SECRET, d.id(), d.timestamp(),
              d.body().getBytes(StandardCharsets.UTF_8)));
    }
    JsonNode last = Json.mapper().readTree(deliveries.get(1).body());
    assertThat(last.path("type").asText()).isEqualTo("job.succeeded");
    assertThat(last.path("job").path("output").asText()).isEqualTo("s3://gen3d/manual/alice/out/cup.ply");
    assertThat(node.api.eventTypes(jobId)).contains("ResultHeld", "ResultApproved", "CallbackDelivered");
  }

  @Test
  void failedJobWritesItsErrorReportAndARetryAfterTheFixSucceeds() throws Exception {
    node = TestNode.start(dataDir, settings());
    Path folder = node.bucket("gen3d").resolve("manual/alice");
    TestNode.upload(folder.resolve("pot_image.png"), SampleImages.image(32));

    String jobId = node.api.post("/v1/jobs", """
        {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/manual/alice/pot_image.png",\
        "mask":"s3://gen3d/manual/alice/pot_mask.png"},
         "output":"s3://gen3d/manual/alice/out/pot.ply"}""").body().path("jobId").asText();

    Path report = folder.resolve("out/pot_error.json");
    Await.until(TestNode.JOB_TIMEOUT, "the error report", () -> Files.exists(report));
    assertThat(node.api.status(jobId)).isEqualTo("FAILED");
    JsonNode written = Json.mapper().readTree(report.toFile());
    assertThat(written.path("job").path("jobId").asText()).isEqualTo(jobId);
    assertThat(written.path("job").path("error").asText()).contains("pot_mask.png", "did not arrive");

    TestNode.upload(folder.resolve("pot_mask.png"), SampleImages.mask(32));
    Api.Response retried = node.api.post("/v1/jobs/" + jobId + "/retry", "{\"reason\": \"mask uploaded\"}");

    assertThat(retried.status()).isEqualTo(200);
    Await.until(TestNode.JOB_TIMEOUT, "the redriven job to succeed", () -> "SUCCEEDED".equals(node.api.status(jobId)));
    assertThat(folder.resolve("out/pot.ply")).exists();
    Await.until(TestNode.JOB_TIMEOUT, "the old error report to go", () -> !Files.exists(report));
    assertThat(node.api.eventTypes(jobId)).containsSubsequence("JobFailed", "ErrorReported", "JobRetried", "JobQueued",
        "JobSucceeded");
  }
}
