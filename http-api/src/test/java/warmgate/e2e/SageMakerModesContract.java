package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static warmgate.e2e.SageMakerNode.at;
import static warmgate.e2e.SageMakerNode.count;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.blob.Md5;
import warmgate.ingest.sns.SnsFixture;
import warmgate.ingest.sns.SnsRoutes;
import warmgate.provider.sagemaker.SageMakerStandIn;
import warmgate.provider.sagemaker.SageMakerStandIn.AsyncConfig;
import warmgate.provider.sagemaker.SageMakerStandIn.Reply;

/**
 * The three SageMaker modes end to end through one real node (Main.init from its configuration: the S3 blob store
 * against S3Proxy, the real SDK clients against the SageMaker stand-in, SNS notifications signed by the test CA).
 * Each scenario has an endpoint of its own, so that one scenario's leftovers cannot start or stop another's; the
 * subclasses pick the journal. The stand-in keeps its default delays (creation and deletion 300 ms, copies 300 ms,
 * async processing 200 ms), so the SAGEMAKER-MEASURE lines printed are times through those delays.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SageMakerModesContract {
  static final String SUCCESS_TOPIC = "arn:aws:sns:us-east-1:123456789012:gen3d-async-success";
  static final String ERROR_TOPIC = "arn:aws:sns:us-east-1:123456789012:gen3d-async-error";
  /**
   * When a job first looks for an asynchronous answer by itself. Long enough that an answer found sooner was found
   * because a notification said so, short enough that the lost-notification scenario ends soon.
   */
  static final Duration LOOK_FIRST = Duration.ofSeconds(8);
  private static final String BUCKET = "gen3d";
  private static final String WORK = "gen3d-work";
  private static final List<String> ENDPOINTS = List.of("sm-async", "sm-async-error", "sm-async-lost", "sm-async-s3",
      "sm-component", "sm-realtime", "sm-realtime-slow", "sm-fallback");

  private S3Server s3;
  private SageMakerStandIn standIn;
  private S3ModelBackend backend;
  private SageMakerNode node;
  private final List<String> jobs = new ArrayList<>();
  private final AtomicInteger componentInvocations = new AtomicInteger();

  /** The node's journal settings (nothing: the embedded H2 default). */
  protected abstract Map<String, Object> journal();

  /** Drops what {@link #journal()} made, after the node has stopped. */
  protected void dropJournal() {}

  @BeforeAll
  void start(@TempDir Path dataDir) {
    s3 = S3Server.start(BUCKET, WORK);
    backend = new S3ModelBackend(s3);
    backend.lose("sm-async-lost");
    backend.lose("sm-async-s3");
    standIn = SageMakerStandIn.start("gen3d-rt", "gen3d-ok")
        .capacityShortage("gen3d-short")
        .asyncEndpointConfig("gen3d-async", new AsyncConfig("s3://" + WORK + "/async/out",
            "s3://" + WORK + "/async/failed", SUCCESS_TOPIC, ERROR_TOPIC))
        .inferenceComponent("gen3d-host", "gen3d-ic")
        .asyncBackend(backend);
    standIn.model(MeshModels.meshing(MeshModels.REALTIME_MESH_BYTES));
    standIn.model("sm-async", MeshModels.meshing(MeshModels.ASYNC_MESH_BYTES));
    standIn.model("sm-async-lost", MeshModels.meshing(MeshModels.ASYNC_MESH_BYTES));
    standIn.model("sm-async-s3", MeshModels.meshing(MeshModels.REALTIME_MESH_BYTES));
    standIn.model("sm-async-error", MeshModels.outOfMemory());
    standIn.model("gen3d-ic", MeshModels.noCapacityFirst(2, componentInvocations));
    standIn.model("sm-realtime-slow", inv -> Reply.invocationTimedOut());

    Map<String, Object> settings = new HashMap<>(s3.blobStoreSettings());
    settings.putAll(journal());
    settings.put("warmgate.data-dir", dataDir.toString());
    settings.put("warmgate.http.port", 0);
    settings.put("pekko.remote.artery.canonical.port", 0);
    settings.put("warmgate.auth.tokens", TestTokens.entries());
    settings.put("warmgate.endpoints.gen3d.process.port", Ports.free());
    settings.put("warmgate.sns.topic-arns", List.of(SUCCESS_TOPIC, ERROR_TOPIC));
    settings.put("warmgate.request.acquire-interval", "300ms");
    settings.put("warmgate.request.inputs-check-interval", "200ms");
    settings.put("warmgate.request.backoff-min", "200ms");
    settings.put("warmgate.request.backoff-max", "1s");
    settings.put("warmgate.request.result-look-first", LOOK_FIRST.toMillis() + "ms");
    settings.put("warmgate.request.result-look-max", LOOK_FIRST.toMillis() + "ms");
    // Idle endpoints stop within a second; nothing describes an endpoint on a timer of its own while a test counts.
    settings.put("warmgate.endpoint-defaults.idle-timeout", "1s");
    settings.put("warmgate.endpoint-defaults.status-poll-interval", "100ms");
    settings.put("warmgate.endpoint-defaults.reconcile-interval", "10m");
    for (String name : List.of("sm-async", "sm-async-error", "sm-async-lost", "sm-async-s3")) {
      String block = sageMaker(settings, name, "sagemaker-async");
      settings.put(block + "endpoint-config-name", "gen3d-async");
      settings.put(block + "async.staging", "s3://" + WORK + "/staging/");
      settings.put(block + "async.output-path", "s3://" + WORK + "/async/out");
      settings.put(block + "async.failure-path", "s3://" + WORK + "/async/failed");
    }
    String component = sageMaker(settings, "sm-component", "sagemaker-component");
    settings.put(component + "endpoint-name", "gen3d-host");
    settings.put(component + "inference-component-name", "gen3d-ic");
    settings.put(component + "copies", 1);
    settings.put(sageMaker(settings, "sm-realtime", "sagemaker") + "endpoint-config-name", "gen3d-rt");
    settings.put(sageMaker(settings, "sm-realtime-slow", "sagemaker") + "endpoint-config-name", "gen3d-rt");
    settings.put(sageMaker(settings, "sm-fallback", "sagemaker") + "endpoint-config-names", List.of("gen3d-short",
        "gen3d-ok"));
    // Long enough to read which configuration serves once the job is done.
    settings.put("warmgate.endpoints.sm-fallback.idle-timeout", "5s");

    var sns = new SnsRoutes(SnsFixture.verifier(SnsFixture.servingSnsCert(), Set.of(SUCCESS_TOPIC, ERROR_TOPIC)),
        new SnsFixture.RecordingConfirmer());
    node = SageMakerNode.start(settings, sns);
    backend.deliverTo(node.base);
  }

  /** Points the endpoint's provider block at the stand-in; the block's path, ending in a dot. */
  private String sageMaker(Map<String, Object> settings, String endpoint, String provider) {
    settings.put("warmgate.endpoints." + endpoint + ".provider", provider);
    String block = "warmgate.endpoints." + endpoint + "." + provider + ".";
    settings.put(block + "region", SageMakerStandIn.REGION);
    settings.put(block + "endpoint-override", standIn.uri().toString());
    settings.put(block + "access-key-id", SageMakerStandIn.ACCESS_KEY_ID);
    settings.put(block + "secret-access-key", SageMakerStandIn.SECRET_ACCESS_KEY);
    return block;
  }

  /** A scenario that failed leaves nothing running into the next one: its jobs are cancelled, its endpoint stops. */
  @AfterEach
  void settle() {
    for (String jobId : jobs) {
      String status = node.api.status(jobId);
      if (status != null && !Set.of("SUCCEEDED", "FAILED", "CANCELLED").contains(status)) {
        node.api.post("/v1/jobs/" + jobId + "/cancel", "");
      }
    }
    jobs.clear();
    ENDPOINTS.forEach(node::awaitCold);
  }

  @AfterAll
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
    dropJournal();
  }

  // https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpoint.html,
  // https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpointAsync.html and
  // https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-check-predictions.html (the SNS message).
  @Test
  void asyncJobOnAColdEndpointIsAnsweredOnTheSuccessTopicWithItsTwentyMebibytePlyByteForByte() {
    byte[] image = upload("chair", 3001, 64 * 1024);
    standIn.resetCalls();

    String jobId = submit("sm-async", "chair");
    node.awaitStatus(jobId, "SUCCEEDED");
    node.awaitCold("sm-async");

    Map<String, Integer> calls = SageMakerNode.calls(standIn);
    List<JsonNode> events = SageMakerNode.events(node.api, jobId);
    SageMakerNode.measure("async", calls, events);
    assertPly(jobId, "chair", MeshModels.mesh(image, MeshModels.ASYNC_MESH_BYTES));
    assertThat(calls).containsEntry("CreateEndpoint", 1).containsEntry("InvokeEndpointAsync", 1)
        .containsEntry("DeleteEndpoint", 1);
    assertThat(standIn.status("sm-async")).as("deleted when idle").isEmpty();
    assertThat(standIn.asyncInvocations()).filteredOn(i -> i.inferenceId().equals(jobId)).singleElement()
        .satisfies(i -> assertThat(i.inputLocation()).isEqualTo("s3://" + WORK + "/staging/" + jobId
            + "/request.json"));
    assertThat(count(events, "AsyncInvoked")).isEqualTo(1);
    assertThat(count(events, "JobSucceeded")).isEqualTo(1);
    // SageMaker's notification reaches the SNS route: the node takes it (200) and the job looks at once.
    assertThat(backend.deliveries(jobId)).singleElement().satisfies(d -> {
      assertThat(d.topicArn()).isEqualTo(SUCCESS_TOPIC);
      assertThat(d.status()).as("the node's answer to the success notification: %s", d.answer()).isEqualTo(200);
    });
    assertThat(Duration.between(at(events, "AsyncInvoked"), at(events, "JobSucceeded")))
        .as("answered on the notification, before the job's first look (%s) was due", LOOK_FIRST)
        .isLessThan(LOOK_FIRST);
  }

  // The failure half of the same flow: S3FailurePath and the ErrorTopic of the EndpointConfig's AsyncInferenceConfig
  // (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AsyncInferenceOutputConfig.html).
  @Test
  void asyncModelFailureComesOnTheErrorTopicAndItsTextLandsInTheErrorJson() throws Exception {
    byte[] image = upload("vase", 3002, 32 * 1024);

    String jobId = submit("sm-async-error", "vase");
    JsonNode failed = node.awaitStatus(jobId, "FAILED");
    String report = Await.until(SageMakerNode.JOB_TIMEOUT, "vase_error.json", () -> s3.get(BUCKET,
        "users/alice/output/vase_error.json").map(b -> new String(b, StandardCharsets.UTF_8)).orElse(null));

    List<JsonNode> events = SageMakerNode.events(node.api, jobId);
    String failure = MeshModels.outOfMemory(image);
    assertThat(failed.path("error").asText()).contains(failure);
    JsonNode reported = Json.mapper().readTree(report);
    assertThat(reported.path("job").path("status").asText()).isEqualTo("FAILED");
    assertThat(reported.path("job").path("error").asText()).contains(failure);
    assertThat(s3.get(BUCKET, "users/alice/output/vase.ply")).as("no result for a failed job").isEmpty();
    assertThat(count(events, "AsyncInvoked")).isEqualTo(1);
    assertThat(count(events, "JobFailed")).as("a model failure is permanent: no second invocation").isEqualTo(1);
    // The error notification is taken the same way.
    assertThat(backend.deliveries(jobId)).singleElement().satisfies(d -> {
      assertThat(d.topicArn()).isEqualTo(ERROR_TOPIC);
      assertThat(d.message().path("invocationStatus").asText()).isEqualTo("Failed");
      assertThat(d.status()).as("the node's answer to the error notification: %s", d.answer()).isEqualTo(200);
    });
    assertThat(Duration.between(at(events, "AsyncInvoked"), at(events, "JobFailed")))
        .as("failed on the notification, before the job's first look (%s) was due", LOOK_FIRST)
        .isLessThan(LOOK_FIRST);
  }

  @Test
  void asyncAnswerWhoseNotificationIsLostIsFoundByTheJobsOwnLook() {
    byte[] image = upload("lamp", 3003, 48 * 1024);
    standIn.resetCalls();

    String jobId = submit("sm-async-lost", "lamp");
    node.awaitStatus(jobId, "SUCCEEDED");
    node.awaitCold("sm-async-lost");

    Map<String, Integer> calls = SageMakerNode.calls(standIn);
    List<JsonNode> events = SageMakerNode.events(node.api, jobId);
    SageMakerNode.measure("async-notification-lost", calls, events);
    assertPly(jobId, "lamp", MeshModels.mesh(image, MeshModels.ASYNC_MESH_BYTES));
    assertThat(backend.deliveries(jobId)).as("published by SageMaker, never delivered").singleElement()
        .satisfies(d -> assertThat(d.status()).isZero());
    assertThat(calls).containsEntry("CreateEndpoint", 1).containsEntry("InvokeEndpointAsync", 1)
        .containsEntry("DeleteEndpoint", 1);
    assertThat(Duration.between(at(events, "AsyncInvoked"), at(events, "JobSucceeded")))
        .as("found by the look due after %s", LOOK_FIRST).isGreaterThanOrEqualTo(LOOK_FIRST);
  }

  // The answer's upload reported by S3 instead of SageMaker's notification, in S3's event structure
  // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
  @Test
  void asyncAnswerUploadReportedByAnS3EventPromptsTheJobAndStartsNoJobOfItsOwn() {
    byte[] image = upload("desk", 3009, 8 * 1024);

    String jobId = submit("sm-async-s3", "desk");
    S3ModelBackend.Delivery lost = Await.until(SageMakerNode.JOB_TIMEOUT, "the answer to be written",
        () -> backend.deliveries(jobId).stream().findFirst().orElse(null));
    String[] answer = S3Server.split(lost.message().path("responseParameters").path("outputLocation").asText());
    byte[] mesh = MeshModels.mesh(image, MeshModels.REALTIME_MESH_BYTES);
    Api.Response reported = node.api.post("/v1/notifications/s3", """
        {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
          "eventTime":"2026-12-06T10:00:00.000Z","eventName":"ObjectCreated:Put",
          "s3":{"s3SchemaVersion":"1.0","bucket":{"name":"%s","arn":"arn:aws:s3:::%s"},
            "object":{"key":"%s","size":%d,"eTag":"%s","sequencer":"0055AED6DCD90281E5"}}}]}"""
        .formatted(answer[0], answer[0], answer[1], mesh.length, Md5.hex(mesh)));
    node.awaitStatus(jobId, "SUCCEEDED");

    List<JsonNode> events = SageMakerNode.events(node.api, jobId);
    assertPly(jobId, "desk", mesh);
    assertThat(reported.status()).isEqualTo(200);
    assertThat(reported.body().path("accepted")).as("an answer is no upload to run a job on").isEmpty();
    assertThat(reported.body().path("skipped").findValuesAsText("key")).containsExactly(answer[1]);
    // The upload event on the output path reaches the job waiting there through its endpoint.
    assertThat(Duration.between(at(events, "AsyncInvoked"), at(events, "JobSucceeded")))
        .as("answered on the upload event, before the job's first look (%s) was due", LOOK_FIRST)
        .isLessThan(LOOK_FIRST);
  }

  // https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateInferenceComponentRuntimeConfig.html,
  // https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeInferenceComponent.html and
  // https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html (InferenceComponentName).
  @Test
  void componentScaledToZeroGetsACopyWaitsOutNoCapacityAnswersThenServesAndScalesBackToZero() {
    byte[] image = upload("stool", 3004, 16 * 1024);
    componentInvocations.set(0);
    standIn.resetCalls();

    String jobId = submit("sm-component", "stool");
    JsonNode done = node.awaitStatus(jobId, "SUCCEEDED");
    node.awaitCold("sm-component");

    Map<String, Integer> calls = SageMakerNode.calls(standIn);
    List<JsonNode> events = SageMakerNode.events(node.api, jobId);
    SageMakerNode.measure("component", calls, events);
    assertPly(jobId, "stool", MeshModels.mesh(image, MeshModels.REALTIME_MESH_BYTES));
    assertThat(standIn.componentCopies("gen3d-ic")).as("scaled back to zero when idle").contains(0);
    assertThat(calls).as("copies 0 -> 1, then 1 -> 0").containsEntry("UpdateInferenceComponentRuntimeConfig", 2)
        .containsEntry("InvokeEndpoint", 3).doesNotContainKeys("CreateEndpoint", "DeleteEndpoint");
    assertThat(count(events, "AttemptNotRun")).as("the no-capacity answers").isEqualTo(2);
    assertThat(count(events, "AttemptFailed")).isZero();
    assertThat(done.path("attempts").asInt()).as("not-ready tries spend no attempt").isEqualTo(1);
  }

  @Test
  void realtimeJobOnAColdEndpointCreatesItInvokesOnceAndDeletesItWhenIdle() {
    byte[] image = upload("table", 3005, 16 * 1024);
    standIn.resetCalls();

    String jobId = submit("sm-realtime", "table");
    node.awaitStatus(jobId, "SUCCEEDED");
    node.awaitCold("sm-realtime");

    Map<String, Integer> calls = SageMakerNode.calls(standIn);
    SageMakerNode.measure("realtime", calls, SageMakerNode.events(node.api, jobId));
    assertPly(jobId, "table", MeshModels.mesh(image, MeshModels.REALTIME_MESH_BYTES));
    assertThat(calls).containsEntry("CreateEndpoint", 1).containsEntry("InvokeEndpoint", 1)
        .containsEntry("DeleteEndpoint", 1);
  }

  // https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html: "Maximum length of
  // 6291456" for Body.
  @Test
  void realtimeRequestOfSevenMegabytesFailsForGoodWithoutAnInvocation() {
    upload("sofa", 3006, 5_250_000); // 7,000,000 bytes of base64 in the request
    standIn.resetCalls();

    String jobId = submit("sm-realtime", "sofa");
    JsonNode failed = node.awaitStatus(jobId, "FAILED");

    List<JsonNode> events = SageMakerNode.events(node.api, jobId);
    assertThat(failed.path("error").asText()).contains("6291456").contains("sagemaker-async")
        .contains("max-input-bytes");
    assertThat(standIn.calls("InvokeEndpoint")).as("refused before any call").isZero();
    // Refused from the input's size in the store's metadata, before the job queued: no slot, no attempt.
    assertThat(count(events, "AttemptStarted")).isZero();
    assertThat(count(events, "AttemptFailed")).as("permanent: not retried").isZero();
    assertThat(count(events, "JobFailed")).isEqualTo(1);
  }

  // SageMaker cuts a real-time container off at 60 s with ModelError, OriginalStatusCode 0
  // (https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-inference-code.html).
  @Test
  void realtimeTimeoutWithOriginalStatusZeroIsRetriedOnceThenFails() {
    upload("bench", 3007, 16 * 1024);
    standIn.resetCalls();

    String jobId = submit("sm-realtime-slow", "bench");
    JsonNode failed = node.awaitStatus(jobId, "FAILED");

    List<JsonNode> events = SageMakerNode.events(node.api, jobId);
    assertThat(standIn.calls("InvokeEndpoint")).as("tried twice, not max-attempts (5) times").isEqualTo(2);
    assertThat(count(events, "AttemptStarted")).isEqualTo(2);
    assertThat(count(events, "AttemptFailed")).isEqualTo(1);
    assertThat(failed.path("error").asText()).contains("60 s");
  }

  // CreateEndpoint then DescribeEndpoint's Failed status and FailureReason
  // (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeEndpoint.html).
  @Test
  void capacityShortageOfTheFirstConfigFallsBackToTheSecondWhichServes() {
    byte[] image = upload("shelf", 3008, 16 * 1024);
    standIn.resetCalls();

    String jobId = submit("sm-fallback", "shelf");
    node.awaitStatus(jobId, "SUCCEEDED");
    String serving = node.endpoint("sm-fallback").path("configuration").asText();
    node.awaitCold("sm-fallback");

    Map<String, Integer> calls = SageMakerNode.calls(standIn);
    SageMakerNode.measure("realtime-capacity-fallback", calls, SageMakerNode.events(node.api, jobId));
    assertThat(serving).isEqualTo("gen3d-ok");
    assertPly(jobId, "shelf", MeshModels.mesh(image, MeshModels.REALTIME_MESH_BYTES));
    assertThat(calls).as("the short config's endpoint created and deleted, then the second's")
        .containsEntry("CreateEndpoint", 2).containsEntry("DeleteEndpoint", 2).containsEntry("InvokeEndpoint", 1);
  }

  // ---- Helpers

  /** Uploads {@code users/alice/input/<name>_image.png}; its bytes. */
  private byte[] upload(String name, int seed, int size) {
    byte[] image = MeshModels.image(seed, size);
    s3.put(BUCKET, "users/alice/input/" + name + "_image.png", image, "image/png");
    return image;
  }

  private String submit(String endpoint, String name) {
    String jobId = node.submit(endpoint, "s3://" + BUCKET + "/users/alice/input/" + name + "_image.png",
        "s3://" + BUCKET + "/users/alice/output/" + name + ".ply");
    jobs.add(jobId);
    return jobId;
  }

  /** The output object is the expected bytes, stamped with the job's id. */
  private void assertPly(String jobId, String name, byte[] expected) {
    String key = "users/alice/output/" + name + ".ply";
    byte[] ply = s3.get(BUCKET, key).orElseThrow(() -> new AssertionError("no object at " + key));
    assertThat(ply.length).isEqualTo(expected.length);
    assertThat(Arrays.equals(ply, expected)).as("%s byte for byte", key).isTrue();
    assertThat(s3.metadata(BUCKET, key)).containsEntry("warmgate-job-id", jobId);
  }
}
