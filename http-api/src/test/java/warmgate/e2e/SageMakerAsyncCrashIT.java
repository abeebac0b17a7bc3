package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static warmgate.e2e.SageMakerNode.count;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import warmgate.auth.TestTokens;
import warmgate.provider.sagemaker.SageMakerStandIn;
import warmgate.provider.sagemaker.SageMakerStandIn.AsyncConfig;

// Real processes: Warmgate in a child JVM on the H2 file journal, with the S3 blob store against S3Proxy and a
// sagemaker-async endpoint against the SageMaker stand-in (both in this JVM, both outliving the node); the node is
// killed with SIGKILL while SageMaker works on its invocation and restarted on the same folder.
class SageMakerAsyncCrashIT {
  private static final String WORK = "gen3d-work";
  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dataDir; // a failed run keeps the node's log
  private S3Server s3;
  private SageMakerStandIn standIn;
  private ChildNode node;

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.close();
    }
    if (standIn != null) {
      standIn.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  private Path config(int httpPort) throws Exception {
    Path conf = dataDir.resolve("node.conf");
    Files.writeString(conf, """
        include classpath("application.conf")
        warmgate.data-dir = "%s"
        warmgate.http.port = %d
        pekko.remote.artery.canonical.port = %d
        warmgate.endpoints.gen3d.process.port = %d
        warmgate.blob-store {
          kind = s3
          s3 { endpoint-override = "%s", path-style = true, region = "%s", access-key-id = "%s",
               secret-access-key = "%s" }
        }
        warmgate.endpoint-defaults.status-poll-interval = 200ms
        warmgate.request.acquire-interval = 500ms
        # The answer is found by the job's own looks: this JVM cannot trust the test CA that signs SNS messages.
        warmgate.request.result-look-first = 1s
        warmgate.request.result-look-max = 2s
        warmgate.endpoints.sm-async {
          provider = sagemaker-async
          sagemaker-async {
            endpoint-config-name = "gen3d-async"
            region = "%s"
            endpoint-override = "%s"
            access-key-id = "%s"
            secret-access-key = "%s"
            async {
              staging = "s3://%s/staging/"
              output-path = "s3://%s/async/out"
              failure-path = "s3://%s/async/failed"
            }
          }
        }
        """.formatted(dataDir, httpPort, Ports.free(), Ports.free(), s3.url(), S3Server.REGION, S3Server.ACCESS_KEY,
            S3Server.SECRET_KEY, SageMakerStandIn.REGION, standIn.uri(), SageMakerStandIn.ACCESS_KEY_ID,
            SageMakerStandIn.SECRET_ACCESS_KEY, WORK, WORK, WORK) + TestTokens.hocon());
    return conf;
  }

  // https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpointAsync.html: once SageMaker
  // has answered with the OutputLocation, the answer lands there whatever becomes of the caller.
  @Test
  void nodeKilledWhileSageMakerWorksOnTheInvocationCompletesTheJobOnceAfterRestartWithoutInvokingAgain()
      throws Exception {
    s3 = S3Server.start("gen3d", WORK);
    // Undelivered notifications: the job must find its answer by looking.
    var backend = new S3ModelBackend(s3);
    standIn = SageMakerStandIn.start()
        .asyncEndpointConfig("gen3d-async", new AsyncConfig("s3://" + WORK + "/async/out",
            "s3://" + WORK + "/async/failed", SageMakerModesContract.SUCCESS_TOPIC, SageMakerModesContract.ERROR_TOPIC))
        .asyncBackend(backend)
        // Long enough to kill the node and to be sure it died before the answer was written.
        .asyncProcessingDelay(Duration.ofSeconds(5));
    standIn.model(MeshModels.meshing(MeshModels.ASYNC_MESH_BYTES));
    byte[] image = MeshModels.image(4001, 32 * 1024);
    s3.put("gen3d", "users/dave/input/crate_image.png", image, "image/png");
    int httpPort = Ports.free();
    Path conf = config(httpPort);
    Path log = dataDir.resolve("node.log");
    node = ChildNode.start(conf, httpPort, log);

    String jobId = SageMakerNode.submit(node.api, "sm-async", "s3://gen3d/users/dave/input/crate_image.png",
        "s3://gen3d/users/dave/output/crate.ply");
    Await.until(SageMakerNode.JOB_TIMEOUT, "the invocation to be journaled (log: " + log + ")",
        () -> node.api.eventTypes(jobId).contains("AsyncInvoked"));
    node.kill9();
    String answerAt = standIn.asyncInvocations().get(0).outputLocation();
    String[] answer = S3Server.split(answerAt);
    assertThat(s3.get(answer[0], answer[1])).as("the node died before SageMaker wrote its answer").isEmpty();

    node = ChildNode.start(conf, httpPort, log);
    JsonNode done = SageMakerNode.awaitStatus(node.api, jobId, Set.of("SUCCEEDED", "FAILED"));

    List<JsonNode> events = SageMakerNode.events(node.api, jobId);
    assertThat(done.path("status").asText()).as("%s (log: %s)", done, log).isEqualTo("SUCCEEDED");
    assertThat(standIn.calls("InvokeEndpointAsync")).as("invoked once, before the crash").isEqualTo(1);
    assertThat(standIn.asyncInvocations()).singleElement()
        .satisfies(i -> assertThat(i.inferenceId()).isEqualTo(jobId));
    assertThat(count(events, "AsyncInvoked")).isEqualTo(1);
    assertThat(count(events, "AttemptStarted")).as("the attempt under way resumed, no new one").isEqualTo(1);
    assertThat(count(events, "JobSucceeded")).isEqualTo(1);
    byte[] ply = s3.get("gen3d", "users/dave/output/crate.ply").orElseThrow();
    byte[] expected = MeshModels.mesh(image, MeshModels.ASYNC_MESH_BYTES);
    assertThat(ply.length).isEqualTo(expected.length);
    assertThat(Arrays.equals(ply, expected)).as("crate.ply byte for byte").isTrue();
    assertThat(s3.metadata("gen3d", "users/dave/output/crate.ply")).containsEntry("warmgate-job-id", jobId);
  }
}
