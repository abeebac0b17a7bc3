package warmgate.http;

import static org.assertj.core.api.Assertions.assertThat;
import static warmgate.http.ApiAssertions.assertError;
import static warmgate.http.ApiAssertions.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import warmgate.Fixtures;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.config.WebhookSettings;
import warmgate.endpoint.EndpointCommand;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.gateway.EndpointBusy;
import warmgate.gateway.EndpointStates;
import warmgate.gateway.JobJournal;
import warmgate.gateway.Jobs;
import warmgate.gateway.Refused;
import warmgate.gateway.TryLater;
import warmgate.ingest.Ingestion;
import warmgate.ingest.RouteIngestion;
import warmgate.ingest.RouteTable;
import warmgate.ingest.TestRoutes;
import warmgate.ingest.s3.S3Routes;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.request.RequestCommand;

// Real HTTP on loopback: the edge's routes with fake services behind their interfaces, an admin token; no journal.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public class HttpEdgeTest {
  private final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString(
      // Port 0: this node never talks to another, and a fixed port would collide with tests running beside it.
      "pekko.http.server.parsing.max-content-length = 1m\npekko.remote.artery.canonical.port = 0")
      .withFallback(ConfigFactory.load()));
  private final HttpClient http = HttpClient.newHttpClient();
  private final FakeJobs jobs = new FakeJobs();
  private String base;

  /** Jobs in a map; {@code slow} makes every call time out like an unresponsive journal. */
  public static final class FakeJobs implements Jobs {
    final Map<String, JobSpec> submitted = new ConcurrentHashMap<>();
    volatile boolean slow;
    volatile boolean busy;

    @Override
    public CompletionStage<RequestCommand.Submitted> submit(String jobId, JobSpec spec) {
      if (slow) {
        return CompletableFuture.failedFuture(new TimeoutException("Ask timed out"));
      }
      if (busy) {
        return CompletableFuture.failedFuture(new EndpointBusy(spec.endpoint(), 10_000, 5));
      }
      JobSpec existing = submitted.putIfAbsent(jobId, spec);
      return CompletableFuture.completedFuture(new RequestCommand.Submitted(view(jobId, existing == null ? spec
          : existing),
          existing != null, existing == null || existing.equals(spec)));
    }

    @Override
    public CompletionStage<Optional<RequestCommand.JobView>> find(String jobId) {
      return CompletableFuture.completedFuture(Optional.ofNullable(submitted.get(jobId)).map(spec -> view(jobId,
          spec)));
    }

    /** Jobs that count as succeeded: cancelling them is refused. */
    final Set<String> finished = ConcurrentHashMap.newKeySet();

    @Override
    public CompletionStage<Optional<RequestCommand.JobView>> cancel(String jobId, String reason) {
      if (finished.contains(jobId)) {
        return CompletableFuture.failedFuture(new Refused("job " + jobId
            + " is SUCCEEDED; only unfinished jobs can be cancelled"));
      }
      return find(jobId).thenApply(found -> found.map(v -> new RequestCommand.JobView(v.jobId(), JobStatus.CANCELLED,
          v.endpoint(),
          v.owner(), v.attempts(), v.createdAt(), v.updatedAt(), v.inputs(), v.output(), null, null, v.priority())));
    }

    /** What retry, approve and reject were asked, as "verb jobId reason". */
    final List<String> actions = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The failure the next retry, approve or reject answers with, if any. */
    volatile RuntimeException actionFailure;

    @Override
    public CompletionStage<Optional<RequestCommand.JobView>> retry(String jobId, String reason) {
      return act("retry", jobId, reason, JobStatus.WAITING_FOR_INPUTS);
    }

    @Override
    public CompletionStage<Optional<RequestCommand.JobView>> approve(String jobId, String reviewer) {
      return act("approve", jobId, null, JobStatus.SUCCEEDED);
    }

    @Override
    public CompletionStage<Optional<RequestCommand.JobView>> reject(String jobId, String reviewer, String reason) {
      return act("reject", jobId, reason, JobStatus.FAILED);
    }

    private CompletionStage<Optional<RequestCommand.JobView>> act(String verb, String jobId, String reason,
        JobStatus after) {
      RuntimeException failure = actionFailure;
      if (failure != null) {
        return CompletableFuture.failedFuture(failure);
      }
      actions.add(verb + " " + jobId + " " + reason);
      return find(jobId).thenApply(found -> found.map(v -> new RequestCommand.JobView(v.jobId(), after, v.endpoint(),
          v.owner(), v.attempts(), v.createdAt(), v.updatedAt(), v.inputs(), v.output(), null, null, v.priority())));
    }

    static RequestCommand.JobView view(String jobId, JobSpec spec) {
      Instant t = Instant.parse("2026-11-23T10:00:00Z");
      return new RequestCommand.JobView(jobId, JobStatus.QUEUED, spec.endpoint(), spec.owner(), 0, t, t,
          Map.of("image", spec.inputs().values().iterator().next().toString()), spec.output().toString(), null, null,
          spec.priority());
    }
  }

  private static final WebhookSettings WEBHOOKS = new WebhookSettings("s3cret", List.of("hooks.example.com"), false,
      Duration.ofSeconds(5), 3, Duration.ofSeconds(1), Duration.ofSeconds(10));

  private final JobJournal journal = jobId -> CompletableFuture.completedFuture(jobs.submitted.containsKey(jobId)
      ? List.of(new JobJournal.Entry(1, Instant.parse("2026-11-23T10:00:00Z"), "JobSubmitted",
          Json.mapper().createObjectNode().put("jobId", jobId)))
      : List.of());

  private final EndpointStates endpointStates = new EndpointStates() {
    @Override
    public Set<String> names() {
      return Set.of("gen3d");
    }

    @Override
    public CompletionStage<EndpointCommand.View> get(String name) {
      return CompletableFuture.completedFuture(
          new EndpointCommand.View(name, EndpointLifecycle.Phase.COLD, 0, 0, null, 42, null, 0, 0));
    }

    @Override
    public CompletionStage<EndpointCommand.View> start(String name) {
      return CompletableFuture.completedFuture(
          new EndpointCommand.View(name, EndpointLifecycle.Phase.STARTING, 0, 0, Instant.EPOCH, 0, null, 0, 0));
    }

    @Override
    public CompletionStage<EndpointCommand.View> stop(String name) {
      return CompletableFuture.failedFuture(new Refused("endpoint " + name + " has 1 job(s) running and 0 queued"));
    }

    @Override
    public void providerReported(String name, String status) {
      throw new AssertionError("no route here reports provider states");
    }
  };

  @BeforeAll
  void bind() {
    RouteTable routes = TestRoutes.gen3d();
    Ingestion ingestion = new RouteIngestion(routes, jobs);
    var server = HttpServer.builder(new JobRoutes(jobs, journal, Set.of("gen3d"), WEBHOOKS),
        new EndpointRoutes(endpointStates),
        new Authentication(TestTokens.authenticator())).notifications(new S3Routes(ingestion)).build();
    ServerBinding binding = server.start(testKit.system(), "127.0.0.1", 0).toCompletableFuture().join();
    base = "http://127.0.0.1:" + binding.localAddress().getPort();
  }

  @AfterAll
  void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void reset() {
    jobs.submitted.clear();
    jobs.actions.clear();
    jobs.actionFailure = null;
    jobs.slow = false;
    jobs.busy = false;
  }

  /** With the admin token: these tests are about everything but authentication (AuthEdgeTest has that). */
  private HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
    var builder = HttpRequest.newBuilder(URI.create(base + path))
        .header("Authorization", "Bearer " + TestTokens.ADMIN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      builder.headers(headers);
    }
    return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Sends a body the server refuses before reading all of it. The server answers 413 and closes; if the
   * client is still uploading then, the TCP reset can destroy the answer before it is read (seen on a loaded
   * machine), so the same request is tried again a few times. A wrong answer still fails at once.
   */
  private HttpResponse<String> sendRefusedUpload(String path, String body) throws Exception {
    java.io.IOException last = null;
    for (int i = 0; i < 5; i++) {
      try {
        return send("POST", path, body);
      } catch (java.io.IOException reset) {
        last = reset;
      }
    }
    throw last;
  }



  private static final String JOB = """
      {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/users/a/input/x_image.png",\
      "mask":"s3://gen3d/users/a/input/x_mask.png"},
       "output":"s3://gen3d/users/a/output/x.ply","payload":{"quality":"high"}}""";

  @Test
  void acceptedJobAnswers202WithLocationAndTheJob() throws Exception {
    var response = send("POST", "/v1/jobs", JOB);

    assertThat(response.statusCode()).isEqualTo(202);
    String jobId = json(response).path("jobId").asText();
    assertThat(response.headers().firstValue("Location")).hasValue("/v1/jobs/" + jobId);
    assertThat(json(response).path("status").asText()).isEqualTo("QUEUED");
    assertThat(jobs.submitted.get(jobId).payload().path("quality").asText()).isEqualTo("high");
  }

  @Test
  void sameIdempotencyKeyGivesTheSameJobAndADifferentRequestWithItIsAConflict() throws Exception {
    var first = send("POST", "/v1/jobs", JOB, "Idempotency-Key", "order-17");
    var again = send("POST", "/v1/jobs", JOB, "Idempotency-Key", "order-17");
    var other = send("POST", "/v1/jobs", JOB.replace("x.ply", "y.ply"), "Idempotency-Key", "order-17");

    assertThat(again.statusCode()).isEqualTo(202);
    assertThat(json(again).path("jobId")).isEqualTo(json(first).path("jobId"));
    assertThat(again.headers().firstValue("Idempotent-Replayed")).hasValue("true");
    assertError(other, 409, "idempotency_conflict");
    assertThat(jobs.submitted).hasSize(1);
  }

  @Test
  void badJobsAreRefusedWith400AndNothingIsSubmitted() throws Exception {
    assertError(send("POST", "/v1/jobs", "{not json"), 400, "invalid_json");
    assertError(send("POST", "/v1/jobs", "[]"), 400, "invalid_job");
    assertError(send("POST", "/v1/jobs", JOB.replace("\"gen3d\",\"inputs\"", "\"nope\",\"inputs\"")), 400,
        "unknown_endpoint");
    assertError(send("POST", "/v1/jobs", JOB.replace("s3://gen3d/users/a/output/x.ply", "http://x/y")), 400,
        "invalid_object_uri");
    assertError(send("POST", "/v1/jobs", JOB.replace("\"payload\"", "\"paylaod\"")), 400, "invalid_job");
    assertError(send("POST", "/v1/jobs", JOB.replace("{\"quality\":\"high\"}", "{\"image\":1}")), 400, "invalid_job");
    assertError(send("POST", "/v1/jobs", JOB.replace("\"inputs\":{", "\"inputs\":{\"9bad\":\"s3://gen3d/k\",")), 400,
        "invalid_job");
    assertError(send("POST", "/v1/jobs", JOB.replace("\"payload\"", "\"callbackUrl\":\"https://x\",\"payload\"")), 400,
        "invalid_callback_url");
    assertError(send("POST", "/v1/jobs", JOB, "Idempotency-Key", "has space"), 400, "invalid_header");

    assertThat(jobs.submitted).isEmpty();
  }

  @Test
  void bodyOverTheLimitIs413() throws Exception {
    String huge = JOB.replace("\"high\"", "\"" + "x".repeat(1_100_000) + "\"");

    assertError(sendRefusedUpload("/v1/jobs", huge), 413, "body_too_large");
    assertThat(jobs.submitted).isEmpty();
  }

  @Test
  void journalThatDoesNotConfirmInTimeIs503WithRetryAfter() throws Exception {
    jobs.slow = true;

    var response = send("POST", "/v1/jobs", JOB);

    assertError(response, 503, "unavailable");
    assertThat(response.headers().firstValue("Retry-After")).hasValue("2");
  }

  @Test
  void fullEndpointQueueIs429ToAClientAnd503ToANotificationSender() throws Exception {
    jobs.busy = true;

    var job = send("POST", "/v1/jobs", JOB);
    var notification = send("POST", "/v1/notifications/s3",
        new String(Fixtures.bytes("s3/put-unversioned-minor-version.json")));

    assertThat(assertError(job, 429, "endpoint_busy").path("message").asText()).contains("gen3d", "max-queued");
    assertThat(job.headers().firstValue("Retry-After")).hasValue("5");
    assertError(notification, 503, "endpoint_busy");
    assertThat(notification.headers().firstValue("Retry-After")).hasValue("5");
    assertThat(jobs.submitted).isEmpty();
  }

  @Test
  void jobAndItsEventsCanBeReadAndUnknownJobsAre404() throws Exception {
    String jobId = json(send("POST", "/v1/jobs", JOB)).path("jobId").asText();

    var job = send("GET", "/v1/jobs/" + jobId, null);
    var events = send("GET", "/v1/jobs/" + jobId + "/events", null);

    assertThat(json(job).path("jobId").asText()).isEqualTo(jobId);
    assertThat(json(job).has("error")).as("stable shape: null fields are present").isTrue();
    assertThat(json(events).path("events").get(0).path("type").asText()).isEqualTo("JobSubmitted");
    assertThat(json(events).path("events").get(0).path("seqNr").asLong()).isEqualTo(1);
    assertError(send("GET", "/v1/jobs/job-unknown", null), 404, "not_found");
    assertError(send("GET", "/v1/jobs/job-unknown/events", null), 404, "not_found");
    assertError(send("GET", "/v1/jobs/NOT..valid", null), 404, "not_found");
  }

  @Test
  void s3NotificationStartsTheJobAndReportsWhatItSkipped() throws Exception {
    var response = send("POST", "/v1/notifications/s3",
        new String(Fixtures.bytes("s3/put-unversioned-minor-version.json")));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonNode report = json(response);
    assertThat(report.path("accepted")).hasSize(1);
    assertThat(report.path("accepted").get(0).path("key").asText()).isEqualTo("users/bob/input/scan_image.png");
    assertThat(report.path("accepted").get(0).path("duplicate").asBoolean()).isFalse();
    assertThat(report.path("skipped").get(0).path("reason").asText()).contains("not an upload");
    assertThat(jobs.submitted).hasSize(1);
  }

  @Test
  void secondDeliveryOfTheSameNotificationIsAcknowledgedAsADuplicate() throws Exception {
    String body = new String(Fixtures.bytes("s3/put-versioned.json"));
    send("POST", "/v1/notifications/s3", body);

    var again = send("POST", "/v1/notifications/s3", body);

    assertThat(json(again).path("accepted").get(0).path("duplicate").asBoolean()).isTrue();
    assertThat(jobs.submitted).hasSize(1);
  }

  @Test
  void testEventIsAcknowledgedWithoutAJob() throws Exception {
    var response = send("POST", "/v1/notifications/s3", new String(Fixtures.bytes("s3/test-event.json")));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response).path("testEvent").asBoolean()).isTrue();
    assertThat(jobs.submitted).isEmpty();
  }

  @Test
  void malformedNotificationIs400() throws Exception {
    assertError(send("POST", "/v1/notifications/s3", "{\"Records\": 3}"), 400, "invalid_notification");
    assertError(send("POST", "/v1/notifications/s3", ""), 400, "invalid_json");
  }

  @Test
  void endpointsAreListedAndUnknownOnesAre404() throws Exception {
    var one = send("GET", "/v1/endpoints/gen3d", null);

    assertThat(json(one).path("state").asText()).isEqualTo("COLD");
    assertThat(json(one).path("billedSeconds").asLong()).isEqualTo(42);
    assertThat(json(send("GET", "/v1/endpoints", null)).path("endpoints")).hasSize(1);
    assertError(send("GET", "/v1/endpoints/other", null), 404, "not_found");
  }

  @Test
  void endpointsAreStartedByHandAndARefusedStopIs409WithTheReason() throws Exception {
    var started = send("POST", "/v1/endpoints/gen3d/start", null);
    assertThat(started.statusCode()).isEqualTo(202);
    assertThat(json(started).path("state").asText()).isEqualTo("STARTING");

    var error = assertError(send("POST", "/v1/endpoints/gen3d/stop", null), 409, "conflict");
    assertThat(error.path("message").asText()).contains("1 job(s) running");
    assertError(send("POST", "/v1/endpoints/other/start", null), 404, "not_found");
    assertError(send("GET", "/v1/endpoints/gen3d/start", null), 405, "method_not_allowed");
  }

  @Test
  void jobIsCancelledAndAFinishedOneIs409() throws Exception {
    String id = json(send("POST", "/v1/jobs", JOB)).path("jobId").asText();

    var cancelled = send("POST", "/v1/jobs/" + id + "/cancel", null);
    assertThat(cancelled.statusCode()).isEqualTo(200);
    assertThat(json(cancelled).path("status").asText()).isEqualTo("CANCELLED");

    jobs.finished.add(id);
    var error = assertError(send("POST", "/v1/jobs/" + id + "/cancel", null), 409, "conflict");
    assertThat(error.path("message").asText()).contains("SUCCEEDED");
    assertError(send("POST", "/v1/jobs/job-unknown/cancel", null), 404, "not_found");
    assertError(send("POST", "/v1/jobs/NOT%20AN%20ID/cancel", null), 404, "not_found");
  }

  @Test
  void failedJobIsRetriedWithTheReasonGivenAndRefusalsAreConflicts() throws Exception {
    String id = json(send("POST", "/v1/jobs", JOB)).path("jobId").asText();

    var retried = send("POST", "/v1/jobs/" + id + "/retry", "{\"reason\": \"mask fixed\"}");
    assertThat(retried.statusCode()).isEqualTo(200);
    assertThat(json(retried).path("status").asText()).isEqualTo("WAITING_FOR_INPUTS");
    assertThat(send("POST", "/v1/jobs/" + id + "/retry", null).statusCode()).as("the body is optional").isEqualTo(200);
    assertThat(jobs.actions).hasSize(2);
    assertThat(jobs.actions.get(0)).isEqualTo("retry " + id + " mask fixed");
    assertThat(jobs.actions.get(1)).startsWith("retry " + id + " retried through the API by ");

    assertError(send("POST", "/v1/jobs/job-unknown/retry", null), 404, "not_found");
    jobs.actionFailure = new Refused("job " + id + " is QUEUED; only failed jobs can be retried");
    assertThat(assertError(send("POST", "/v1/jobs/" + id + "/retry", null), 409, "conflict").path("message").asText())
        .contains("only failed jobs");
  }

  @Test
  void reviewedJobIsApprovedOrRejectedWithAReason() throws Exception {
    String id = json(send("POST", "/v1/jobs", JOB)).path("jobId").asText();

    var approved = send("POST", "/v1/jobs/" + id + "/approve", null);
    var rejected = send("POST", "/v1/jobs/" + id + "/reject", "{\"reason\": \"holes in the mesh\"}");

    assertThat(json(approved).path("status").asText()).isEqualTo("SUCCEEDED");
    assertThat(json(rejected).path("status").asText()).isEqualTo("FAILED");
    assertThat(jobs.actions).containsExactly("approve " + id + " null", "reject " + id + " holes in the mesh");
  }

  @Test
  void approvalThatCannotPublishIs503AndBadReasonsAre400() throws Exception {
    String id = json(send("POST", "/v1/jobs", JOB)).path("jobId").asText();

    assertError(send("POST", "/v1/jobs/" + id + "/reject", "{\"reason\": 42}"), 400, "invalid_body");
    assertError(send("POST", "/v1/jobs/" + id + "/reject", "{\"why\": \"x\"}"), 400, "invalid_body");
    assertError(send("POST", "/v1/jobs/" + id + "/reject", "{\"reason\": \"" + "x".repeat(1001) + "\"}"), 400,
        "invalid_body");
    assertThat(jobs.actions).isEmpty();

    jobs.actionFailure = new TryLater("the result could not be published (S3 unreachable)");
    var unavailable = send("POST", "/v1/jobs/" + id + "/approve", null);
    assertError(unavailable, 503, "unavailable");
    assertThat(unavailable.headers().firstValue("Retry-After")).isPresent();
  }

  @Test
  void callbackUrlIsCheckedAgainstTheAllowListAndReviewIsAFlag() throws Exception {
    String withCallback = JOB.substring(0, JOB.lastIndexOf('}'))
        + ", \"callbackUrl\": \"https://hooks.example.com/done\", \"requireReview\": true}";
    String id = json(send("POST", "/v1/jobs", withCallback)).path("jobId").asText();
    assertThat(jobs.submitted.get(id).callbackUrl()).isEqualTo("https://hooks.example.com/done");
    assertThat(jobs.submitted.get(id).requireReview()).isTrue();

    for (String bad : List.of("http://hooks.example.com/done", "https://169.254.169.254/latest",
        "https://user@hooks.example.com/x",
        "https://hooks.example.com.evil.net/x", "not a url")) {
      String body = JOB.substring(0, JOB.lastIndexOf('}')) + ", \"callbackUrl\": \"" + bad + "\"}";
      assertError(send("POST", "/v1/jobs", body), 400, "invalid_callback_url");
    }
    String notBoolean = JOB.substring(0, JOB.lastIndexOf('}')) + ", \"requireReview\": \"yes\"}";
    assertError(send("POST", "/v1/jobs", notBoolean), 400, "invalid_job");
    assertThat(jobs.submitted).hasSize(1);
  }

  @Test
  void wrongMethodAndUnknownPathsAreJsonErrors() throws Exception {
    assertError(send("DELETE", "/v1/jobs", null), 405, "method_not_allowed");
    assertError(send("GET", "/v1/nothing-here", null), 404, "not_found");
    assertError(send("GET", "/nothing-here", null), 404, "not_found");
  }
}
