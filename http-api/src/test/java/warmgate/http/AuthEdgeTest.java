package warmgate.http;

import static org.assertj.core.api.Assertions.assertThat;
import static warmgate.http.ApiAssertions.assertError;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import warmgate.Fixtures;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.auth.Tokens;
import warmgate.endpoint.EndpointCommand;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.gateway.EndpointStates;
import warmgate.gateway.JobJournal;
import warmgate.gateway.Jobs;
import warmgate.ingest.RouteIngestion;
import warmgate.ingest.RouteTable;
import warmgate.ingest.TestRoutes;
import warmgate.ingest.s3.S3Routes;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.job.ObjectRef;
import warmgate.request.RequestCommand;

// Real HTTP on loopback: bearer tokens and owner scoping on every route, fake services that record what they were asked
// to do.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthEdgeTest {
  // Port 0: other test JVMs on the machine may hold the default remoting port.
  private final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString(
      "pekko.remote.artery.canonical.port = 0")
      .withFallback(ConfigFactory.load()));
  private final HttpClient http = HttpClient.newHttpClient();
  private final RecordingJobs jobs = new RecordingJobs();
  /** Every state change the services were asked for: a refused request must leave it empty. */
  private final List<String> actions = new CopyOnWriteArrayList<>();
  private String base;

  /** Alice's job, there before every test. */
  private static final String ALICES_JOB = "job-alice1";

  final class RecordingJobs implements Jobs {
    final Map<String, JobSpec> specs = new ConcurrentHashMap<>();

    @Override
    public CompletionStage<RequestCommand.Submitted> submit(String jobId, JobSpec spec) {
      actions.add("submit " + jobId);
      JobSpec existing = specs.putIfAbsent(jobId, spec);
      JobSpec kept = existing == null ? spec : existing;
      return CompletableFuture.completedFuture(new RequestCommand.Submitted(view(jobId, kept, JobStatus.QUEUED),
          existing != null, kept.equals(spec)));
    }

    @Override
    public CompletionStage<Optional<RequestCommand.JobView>> find(String jobId) {
      return CompletableFuture.completedFuture(Optional.ofNullable(specs.get(jobId)).map(spec -> view(jobId, spec,
          JobStatus.QUEUED)));
    }

    @Override
    public CompletionStage<Optional<RequestCommand.JobView>> cancel(String jobId, String reason) {
      actions.add("cancel " + jobId);
      return CompletableFuture.completedFuture(Optional.ofNullable(specs.get(jobId)).map(spec -> view(jobId, spec,
          JobStatus.CANCELLED)));
    }

    @Override
    public CompletionStage<Optional<RequestCommand.JobView>> retry(String jobId, String reason) {
      actions.add("retry " + jobId);
      return CompletableFuture.completedFuture(Optional.ofNullable(specs.get(jobId)).map(spec -> view(jobId, spec,
          JobStatus.WAITING_FOR_INPUTS)));
    }

    @Override
    public CompletionStage<Optional<RequestCommand.JobView>> approve(String jobId, String reviewer) {
      actions.add("approve " + jobId + " by " + reviewer);
      return CompletableFuture.completedFuture(Optional.ofNullable(specs.get(jobId)).map(spec -> view(jobId, spec,
          JobStatus.SUCCEEDED)));
    }

    @Override
    public CompletionStage<Optional<RequestCommand.JobView>> reject(String jobId, String reviewer, String reason) {
      actions.add("reject " + jobId + " by " + reviewer);
      return CompletableFuture.completedFuture(Optional.ofNullable(specs.get(jobId)).map(spec -> view(jobId, spec,
          JobStatus.FAILED)));
    }

    private static RequestCommand.JobView view(String jobId, JobSpec spec, JobStatus status) {
      Instant t = Instant.parse("2026-11-23T10:00:00Z");
      return new RequestCommand.JobView(jobId, status, spec.endpoint(), spec.owner(), 0, t, t, Map.of(),
          spec.output().toString(), null, null, spec.priority());
    }
  }

  private final JobJournal journal = jobId -> CompletableFuture.completedFuture(jobs.specs.containsKey(jobId)
      ? List.of(new JobJournal.Entry(1, Instant.parse("2026-11-23T10:00:00Z"), "JobSubmitted",
          Json.mapper().createObjectNode()))
      : List.of());

  private final EndpointStates endpoints = new EndpointStates() {
    @Override
    public Set<String> names() {
      return Set.of("gen3d");
    }

    @Override
    public void providerReported(String name, String status) {
      actions.add("reported " + name);
    }

    @Override
    public CompletionStage<EndpointCommand.View> get(String name) {
      return CompletableFuture.completedFuture(new EndpointCommand.View(name, EndpointLifecycle.Phase.COLD, 0, 0, null,
          0, null, 0, 0));
    }

    @Override
    public CompletionStage<EndpointCommand.View> start(String name) {
      actions.add("start " + name);
      return CompletableFuture.completedFuture(new EndpointCommand.View(name, EndpointLifecycle.Phase.STARTING, 0, 0,
          Instant.EPOCH, 0, null, 0, 0));
    }

    @Override
    public CompletionStage<EndpointCommand.View> stop(String name) {
      actions.add("stop " + name);
      return CompletableFuture.completedFuture(new EndpointCommand.View(name, EndpointLifecycle.Phase.STOPPING, 0, 0,
          Instant.EPOCH, 0, null, 0, 0));
    }
  };

  @BeforeAll
  void bind() {
    RouteTable routes = TestRoutes.gen3d();
    var server = HttpServer.builder(new JobRoutes(jobs, journal, Set.of("gen3d"), null), new EndpointRoutes(endpoints),
        new Authentication(TestTokens.authenticator())).notifications(new S3Routes(new RouteIngestion(routes,
            jobs))).build();
    base = "http://127.0.0.1:" + server.start(testKit.system(), "127.0.0.1",
        0).toCompletableFuture().join().localAddress().getPort();
  }

  @AfterAll
  void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void reset() {
    jobs.specs.clear();
    jobs.specs.put(ALICES_JOB, new JobSpec("gen3d", "alice", Map.of("image",
        ObjectRef.parse("s3://gen3d/users/alice/input/a_image.png")),
        ObjectRef.parse("s3://gen3d/users/alice/output/a.ply"), null, null, "http", false));
    actions.clear();
  }

  private static final String JOB = """
      {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/users/alice/input/x_image.png"},\
      "output":"s3://gen3d/users/alice/output/x.ply"}""";
  /** The same job with bob's own objects: a user names objects inside its scope only. */
  private static final String BOBS_JOB = JOB.replace("users/alice/", "users/bob/");

  /** Who may use a route: anyone with a token, only the job's owner (or an admin), or only an admin. */
  enum Access { ANY, OWNER, ADMIN }

  record Call(String method, String path, String body, Access access, int success) {
    @Override
    public String toString() {
      return method + " " + path;
    }
  }

  static Stream<Call> routes() {
    return Stream.of(
        new Call("POST", "/v1/jobs", JOB, Access.ANY, 202),
        new Call("GET", "/v1/jobs/" + ALICES_JOB, null, Access.OWNER, 200),
        new Call("GET", "/v1/jobs/" + ALICES_JOB + "/events", null, Access.OWNER, 200),
        new Call("POST", "/v1/jobs/" + ALICES_JOB + "/cancel", "", Access.OWNER, 200),
        new Call("POST", "/v1/jobs/" + ALICES_JOB + "/retry", "", Access.OWNER, 200),
        new Call("POST", "/v1/jobs/" + ALICES_JOB + "/approve", "", Access.ADMIN, 200),
        new Call("POST", "/v1/jobs/" + ALICES_JOB + "/reject", "{\"reason\": \"no\"}", Access.ADMIN, 200),
        new Call("GET", "/v1/endpoints", null, Access.ANY, 200),
        new Call("GET", "/v1/endpoints/gen3d", null, Access.ANY, 200),
        new Call("POST", "/v1/endpoints/gen3d/start", "", Access.ADMIN, 202),
        new Call("POST", "/v1/endpoints/gen3d/stop", "", Access.ADMIN, 202),
        new Call("POST", "/v1/notifications/s3", new String(Fixtures.bytes("s3/put-unversioned-minor-version.json")),
            Access.ADMIN, 200));
  }

  static Stream<Call> adminRoutes() {
    return routes().filter(c -> c.access() == Access.ADMIN);
  }

  static Stream<Call> jobRoutes() {
    return routes().filter(c -> c.access() == Access.OWNER);
  }

  private HttpResponse<String> send(Call call, String authorization) throws Exception {
    return send(call.method(), call.path(), call.body(), authorization);
  }

  private HttpResponse<String> send(String method, String path, String body, String authorization) throws Exception {
    var builder = HttpRequest.newBuilder(URI.create(base + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (authorization != null) {
      builder.header("Authorization", authorization);
    }
    return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String bearer(String token) {
    return "Bearer " + token;
  }


  @ParameterizedTest(name = "{0}")
  @MethodSource("routes")
  void requestWithoutTokenIs401WithABearerChallengeAndDoesNothing(Call call) throws Exception {
    var response = send(call, null);

    assertError(response, 401, "unauthorized");
    assertThat(response.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"warmgate\"");
    assertThat(actions).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("routes")
  void unknownOrMalformedTokenIs401AndDoesNothing(Call call) throws Exception {
    String[] wrong = {bearer(Tokens.generate()), bearer(TestTokens.ADMIN + "x"),
        bearer(Tokens.sha256Hex(TestTokens.ADMIN)),
        "Basic " + TestTokens.ADMIN, "Bearer", "Bearer " + TestTokens.ADMIN + " extra", bearer("not a token"),
            TestTokens.ADMIN};
    for (String authorization : wrong) {
      var response = send(call, authorization);

      assertError(response, 401, "unauthorized");
      assertThat(response.headers().firstValue("WWW-Authenticate")).as(authorization)
          .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer realm=\"warmgate\"")
              .containsPattern("error=\"?invalid_token\"?"));
    }
    assertThat(actions).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("adminRoutes")
  void userTokenWhereAnAdminIsNeededIs403AndDoesNothing(Call call) throws Exception {
    assertError(send(call, bearer(TestTokens.ALICE)), 403, "forbidden");
    assertThat(actions).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("jobRoutes")
  void anotherOwnersJobIs404LikeAJobThatDoesNotExist(Call call) throws Exception {
    var response = send(call, bearer(TestTokens.BOB));

    var missing = send(call.method(), call.path().replace(ALICES_JOB, "job-nobody"), call.body(),
        bearer(TestTokens.BOB));
    assertError(response, 404, "not_found");
    assertThat(response.body()).isEqualTo(missing.body().replace("job-nobody", ALICES_JOB));
    assertThat(actions).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("routes")
  void theRightTokenSucceeds(Call call) throws Exception {
    String token = call.access() == Access.ADMIN ? TestTokens.ADMIN : TestTokens.ALICE;

    var response = send(call, bearer(token));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(call.success());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("jobRoutes")
  void adminSeesAndActsOnEveryonesJobs(Call call) throws Exception {
    var response = send(call, bearer(TestTokens.ADMIN));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(call.success());
  }

  @ParameterizedTest
  @ValueSource(strings = {"Bearer ", "bearer ", "BEARER  "})
  void theSchemeIsCaseInsensitive(String scheme) throws Exception {
    assertThat(send("GET", "/v1/jobs/" + ALICES_JOB, null, scheme + TestTokens.ALICE).statusCode()).isEqualTo(200);
  }

  @Test
  void userSubmitsAsItselfWhenTheBodyNamesNoOwner() throws Exception {
    var response = send("POST", "/v1/jobs", BOBS_JOB, bearer(TestTokens.BOB));

    assertThat(response.statusCode()).isEqualTo(202);
    JsonNode job = Json.mapper().readTree(response.body());
    assertThat(job.path("owner").asText()).isEqualTo("bob");
    assertThat(jobs.specs.get(job.path("jobId").asText()).owner()).isEqualTo("bob");
  }

  @Test
  void userNamingAnotherOwnerIs403AndNothingIsSubmitted() throws Exception {
    String asBob = JOB.replace("\"endpoint\"", "\"owner\":\"bob\",\"endpoint\"");

    var error = assertError(send("POST", "/v1/jobs", asBob, bearer(TestTokens.ALICE)), 403, "forbidden");

    assertThat(error.path("message").asText()).contains("alice");
    assertThat(actions).isEmpty();
    var own = send("POST", "/v1/jobs", JOB.replace("\"endpoint\"", "\"owner\":\"alice\",\"endpoint\""),
        bearer(TestTokens.ALICE));
    assertThat(own.statusCode()).as("naming oneself is fine").isEqualTo(202);
  }

  @Test
  void adminSubmitsForAnyOwnerAndThatOwnerSeesTheJob() throws Exception {
    String forBob = JOB.replace("\"endpoint\"", "\"owner\":\"bob\",\"endpoint\"");

    var response = send("POST", "/v1/jobs", forBob, bearer(TestTokens.ADMIN));

    String jobId = Json.mapper().readTree(response.body()).path("jobId").asText();
    assertThat(jobs.specs.get(jobId).owner()).isEqualTo("bob");
    assertThat(send("GET", "/v1/jobs/" + jobId, null, bearer(TestTokens.BOB)).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/v1/jobs/" + jobId, null, bearer(TestTokens.ALICE)).statusCode()).isEqualTo(404);
  }

  @Test
  void badOwnerFieldIs400() throws Exception {
    assertError(send("POST", "/v1/jobs", JOB.replace("\"endpoint\"", "\"owner\":\"a/b\",\"endpoint\""),
        bearer(TestTokens.ADMIN)), 400, "invalid_job");
    assertError(send("POST", "/v1/jobs", JOB.replace("\"endpoint\"", "\"owner\":7,\"endpoint\""),
        bearer(TestTokens.ADMIN)), 400, "invalid_job");
    assertThat(actions).isEmpty();
  }

  @Test
  void theSameIdempotencyKeyFromTwoOwnersMakesTwoJobs() throws Exception {
    var alices = send("POST", "/v1/jobs", JOB, bearer(TestTokens.ALICE));
    var sameKeyAlice = HttpRequest.newBuilder(URI.create(base + "/v1/jobs")).header("Authorization",
        bearer(TestTokens.ALICE))
        .header("Idempotency-Key", "k-1").POST(HttpRequest.BodyPublishers.ofString(JOB)).build();
    var sameKeyBob = HttpRequest.newBuilder(URI.create(base + "/v1/jobs")).header("Authorization",
        bearer(TestTokens.BOB))
        .header("Idempotency-Key", "k-1").POST(HttpRequest.BodyPublishers.ofString(BOBS_JOB)).build();

    String alicesId = Json.mapper().readTree(http.send(sameKeyAlice,
        HttpResponse.BodyHandlers.ofString()).body()).path("jobId").asText();
    var bobs = http.send(sameKeyBob, HttpResponse.BodyHandlers.ofString());

    assertThat(alices.statusCode()).isEqualTo(202);
    assertThat(bobs.statusCode()).isEqualTo(202);
    assertThat(bobs.headers().firstValue("Idempotent-Replayed")).as("not alice's job replayed to bob").isEmpty();
    assertThat(Json.mapper().readTree(bobs.body()).path("jobId").asText()).isNotEqualTo(alicesId);
  }

  /** Every object reference a job names, as a user might point it at another owner's objects. */
  static Stream<Arguments> objectsOfAnotherOwner() {
    return Stream.of(
        Arguments.of("an input in bob's folder", JOB.replace("users/alice/input/", "users/bob/input/"), "inputs.image"),
        Arguments.of("an output replacing bob's", JOB.replace("users/alice/output/", "users/bob/output/"), "output"),
        Arguments.of("an input outside users/", JOB.replace("users/alice/input/", "shared/"), "inputs.image"),
        Arguments.of("a prefix of bob's name", JOB.replace("users/alice/", "users/alic/"), "inputs.image"),
        Arguments.of("a second input of bob's", JOB.replace("\"inputs\":{",
            "\"inputs\":{\"mask\":\"s3://gen3d/users/bob/input/x_mask.png\","),
            "inputs.mask"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("objectsOfAnotherOwner")
  void userNamingObjectsOutsideItsScopeIs403AndNothingIsSubmitted(String what, String job, String field)
      throws Exception {
    var error = assertError(send("POST", "/v1/jobs", job, bearer(TestTokens.ALICE)), 403, "forbidden");

    assertThat(error.path("message").asText()).contains("'" + field
        + "'").contains("users/alice/").contains("owner-scope");
    assertThat(actions).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("objectsOfAnotherOwner")
  void adminMayNameAnyOwnersObjects(String what, String job, String field) throws Exception {
    assertThat(send("POST", "/v1/jobs", job, bearer(TestTokens.ADMIN)).statusCode()).isEqualTo(202);
  }

  @Test
  void jobFromAnUploadBelongsToTheUserInItsKey() throws Exception {
    var report = send("POST", "/v1/notifications/s3",
        new String(Fixtures.bytes("s3/put-unversioned-minor-version.json")), bearer(TestTokens.ADMIN));
    String jobId = Json.mapper().readTree(report.body()).path("accepted").get(0).path("jobId").asText();

    var asBob = send("GET", "/v1/jobs/" + jobId, null, bearer(TestTokens.BOB));

    assertThat(asBob.statusCode()).isEqualTo(200);
    assertThat(Json.mapper().readTree(asBob.body()).path("owner").asText()).isEqualTo("bob");
    assertError(send("GET", "/v1/jobs/" + jobId, null, bearer(TestTokens.ALICE)), 404, "not_found");
    assertError(send("GET", "/v1/jobs/" + jobId + "/events", null, bearer(TestTokens.ALICE)), 404, "not_found");
  }

  @Test
  void unknownPathsBehindAuthenticationAre401WithoutATokenAnd404WithOne() throws Exception {
    assertError(send("GET", "/v1/nothing-here", null, null), 401, "unauthorized");
    assertError(send("GET", "/v1/nothing-here", null, bearer(TestTokens.ALICE)), 404, "not_found");
    assertError(send("GET", "/nothing-here", null, null), 404, "not_found");
    assertThat(send("GET", "/", null, null).statusCode()).as("the dashboard page itself needs no token").isEqualTo(200);
  }
}
