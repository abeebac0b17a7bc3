package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import warmgate.endpoint.EndpointCommand;
import warmgate.job.JobStatus;
import warmgate.job.ObjectRef;
import warmgate.provider.AsyncInferenceClient;
import warmgate.provider.AsyncResult;
import warmgate.provider.InferenceClient;
import warmgate.provider.InferenceException;
import warmgate.provider.Invocation;
import warmgate.request.RequestCommand.JobLookup;

// Attempts on an asynchronous endpoint (sagemaker-async), and the endpoint answers that shape every attempt: not
// ready (no attempt spent) and failures allowed only a few tries. In-memory, as RequestTestBase.
class AsyncAttemptsTest extends RequestTestBase {
  static final ObjectRef STAGING = new ObjectRef("gen3d-staging", "requests/");
  static final ObjectRef ANSWERS = new ObjectRef("gen3d-async", "out/");

  /** An asynchronous endpoint that queues every request and says where its answer will be. */
  static final class QueueingEndpoint implements InferenceClient, AsyncInferenceClient {
    final List<Invocation> invocations = new CopyOnWriteArrayList<>();
    final List<ObjectRef> inputs = new CopyOnWriteArrayList<>();
    final AtomicInteger next = new AtomicInteger();
    volatile boolean byReference;
    volatile Duration resultWithin = Duration.ofMinutes(30);
    /** Completes the invocations' acceptance; done unless a test holds it back. */
    volatile CompletableFuture<Void> accepting = CompletableFuture.completedFuture(null);

    @Override
    public CompletionStage<InferenceResponse> invoke(String contentType, byte[] body) {
      throw new AssertionError("an asynchronous endpoint is never invoked directly");
    }

    @Override
    public ObjectRef stagingFor(String jobId) {
      return new ObjectRef(STAGING.bucket(), STAGING.key() + jobId + "/request.json");
    }

    @Override
    public boolean inputsByReference() {
      return byReference;
    }

    @Override
    public CompletionStage<Accepted> invokeAsync(Invocation invocation, ObjectRef input) {
      invocations.add(invocation);
      inputs.add(input);
      int n = next.incrementAndGet();
      return accepting.thenApply(done -> new Accepted(invocation.jobId(), output(n), failure(n)));
    }

    @Override
    public Duration resultWithin() {
      return resultWithin;
    }

    @Override
    public List<ObjectRef> resultPrefixes() {
      return List.of(ANSWERS);
    }

    ObjectRef output(int n) {
      return new ObjectRef(ANSWERS.bucket(), ANSWERS.key() + "answer-" + n + ".out");
    }

    ObjectRef failure(int n) {
      return new ObjectRef(ANSWERS.bucket(), "failures/answer-" + n + "-error.out");
    }
  }

  private Fixture fixture(QueueingEndpoint endpoint) {
    Fixture f = new Fixture();
    f.client = endpoint;
    return f;
  }

  private RequestState.AsyncCall awaitInvoked(Fixture f) {
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.kit.getState())
        .isInstanceOfSatisfying(RequestState.Running.class, r -> assertThat(r.call()).isNotNull()));
    return ((RequestState.Running) f.kit.getState()).call();
  }

  @Test
  void theQueuedInvocationIsJournaledAndANoticedAnswerIsCopiedToTheOutput() {
    QueueingEndpoint endpoint = new QueueingEndpoint();
    Fixture f = fixture(endpoint);
    var grant = f.submitAndGrant();

    RequestState.AsyncCall call = awaitInvoked(f);
    assertThat(call.output()).isEqualTo(endpoint.output(1));
    assertThat(call.staged()).isEqualTo(endpoint.stagingFor(f.jobId));
    assertThat(endpoint.inputs).containsExactly(endpoint.stagingFor(f.jobId));
    assertThat(endpoint.invocations.get(0).jobId()).isEqualTo(f.jobId);
    String staged = new String(f.blobs.object(call.staged()).orElseThrow().content(), StandardCharsets.UTF_8);
    assertThat(staged).contains("\"image\":\"aW1hZ2UtYnl0ZXM=\"").contains("\"mask\":\"bWFzay1ieXRlcw==\"");
    assertThat(f.events()).hasAtLeastOneElementOfType(Request.AsyncInvoked.class);

    f.blobs.put(call.output(), "ply answer".getBytes(StandardCharsets.UTF_8));
    f.kit.runCommand(RequestCommand.ResultNoticed.of(new AsyncResult(f.jobId, true, call.output(), null)));

    f.awaitStatus(JobStatus.SUCCEEDED);
    var output = f.blobs.object(OUTPUT).orElseThrow();
    assertThat(new String(output.content(), StandardCharsets.UTF_8)).isEqualTo("ply answer");
    assertThat(output.info().metadata()).containsEntry(InferenceStep.JOB_ID_METADATA, f.jobId);
    assertThat(f.expectRelease().leaseId()).isEqualTo(grant.leaseId());
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.blobs.object(call.staged())).isEmpty());
    assertThat(endpoint.invocations).hasSize(1);
  }

  @Test
  void aNoticeThatOvertakesTheAcceptedInvocationMakesTheJobLookAsSoonAsItIsJournaled() {
    QueueingEndpoint endpoint = new QueueingEndpoint();
    endpoint.accepting = new CompletableFuture<>();
    // Its own first look would come an hour late: only the early notice can explain a success now.
    Fixture f = new Fixture(RequestTestBase.Options.DEFAULTS.resultLookFirst(Duration.ofHours(1)));
    f.client = endpoint;
    f.submitAndGrant();
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(endpoint.invocations).hasSize(1));

    f.blobs.put(endpoint.output(1), "quick ply".getBytes(StandardCharsets.UTF_8));
    f.kit.runCommand(new RequestCommand.ResultNoticed(endpoint.output(1), "a test's notice"));
    assertThat(f.status()).isEqualTo(JobStatus.RUNNING);
    endpoint.accepting.complete(null);

    f.awaitStatus(JobStatus.SUCCEEDED);
    assertThat(new String(f.blobs.object(OUTPUT).orElseThrow().content(), StandardCharsets.UTF_8))
        .isEqualTo("quick ply");
    assertThat(endpoint.invocations).hasSize(1);
  }

  @Test
  void withoutANoticeTheJobFindsTheAnswerByLookingAndKeepsItsSlotMeanwhile() {
    QueueingEndpoint endpoint = new QueueingEndpoint();
    Fixture f = fixture(endpoint);
    var grant = f.submitAndGrant();
    RequestState.AsyncCall call = awaitInvoked(f);

    // Several looks (every 100-400 ms here) find nothing; the job keeps its slot.
    f.kit.runCommand(RequestCommand.Timer.RENEW_LEASE);
    var renew = (EndpointCommand.Renew) f.endpoint.fishForMessage(WAIT, m -> m instanceof EndpointCommand.Renew
        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.fail("released before the answer: " + m))
        .get(0);
    assertThat(renew.leaseId()).isEqualTo(grant.leaseId());
    assertThat(f.status()).isEqualTo(JobStatus.RUNNING);

    f.blobs.put(call.output(), "late ply".getBytes(StandardCharsets.UTF_8));

    f.awaitStatus(JobStatus.SUCCEEDED);
    assertThat(new String(f.blobs.object(OUTPUT).orElseThrow().content(), StandardCharsets.UTF_8))
        .isEqualTo("late ply");
  }

  @Test
  void aFailureWrittenByThePlatformFailsTheJobWithWhatItSays() {
    QueueingEndpoint endpoint = new QueueingEndpoint();
    Fixture f = fixture(endpoint);
    f.submitAndGrant();
    RequestState.AsyncCall call = awaitInvoked(f);

    f.blobs.put(call.failure(), "{\"error\":\"CUDA out of memory\"}".getBytes(StandardCharsets.UTF_8));
    f.kit.runCommand(RequestCommand.ResultNoticed.of(new AsyncResult(f.jobId, false, null, "ClientError")));

    f.awaitStatus(JobStatus.FAILED);
    var job = f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job();
    assertThat(job.error()).contains("CUDA out of memory").contains(call.failure().toString());
    assertThat(job.attempts()).isEqualTo(1);
    f.awaitReported();
    String report = new String(f.blobs.object(SPEC.errorOutput()).orElseThrow().content(), StandardCharsets.UTF_8);
    assertThat(report).contains("CUDA out of memory");
    assertThat(f.blobs.object(OUTPUT)).isEmpty();
  }

  @Test
  void aNoticeAboutAnotherInvocationIsIgnored() {
    QueueingEndpoint endpoint = new QueueingEndpoint();
    endpoint.resultWithin = Duration.ofHours(1);
    Fixture f = fixture(endpoint);
    f.submitAndGrant();
    RequestState.AsyncCall call = awaitInvoked(f);
    // Someone else's answer sits at another place; the notice names that place.
    ObjectRef elsewhere = new ObjectRef(ANSWERS.bucket(), ANSWERS.key() + "someone-else.out");
    f.blobs.put(elsewhere, "not ours".getBytes(StandardCharsets.UTF_8));

    f.kit.runCommand(RequestCommand.ResultNoticed.of(new AsyncResult(f.jobId, true, elsewhere, null)));

    assertThat(f.status()).isEqualTo(JobStatus.RUNNING);
    assertThat(f.blobs.object(OUTPUT)).isEmpty();
    assertThat(((RequestState.Running) f.kit.getState()).call()).isEqualTo(call);
  }

  @Test
  void aJobRestartedWhileItsAnswerIsPendingReclaimsItsSlotAndCollectsWithoutInvokingAgain() {
    QueueingEndpoint endpoint = new QueueingEndpoint();
    Fixture f = fixture(endpoint);
    var grant = f.submitAndGrant();
    RequestState.AsyncCall call = awaitInvoked(f);

    f.kit.restart();

    var renew = (EndpointCommand.Renew) f.endpoint.fishForMessage(WAIT, m -> m instanceof EndpointCommand.Renew
        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore()).stream()
        .filter(EndpointCommand.Renew.class::isInstance).map(EndpointCommand.Renew.class::cast).findFirst()
        .orElseThrow();
    assertThat(renew.leaseId()).isEqualTo(grant.leaseId());
    f.blobs.put(call.output(), "answered while we were down".getBytes(StandardCharsets.UTF_8));

    f.awaitStatus(JobStatus.SUCCEEDED);
    assertThat(endpoint.invocations).hasSize(1);
    assertThat(f.events().stream().filter(Request.AttemptStarted.class::isInstance)).hasSize(1);
  }

  @Test
  void noAnswerByTheTimeThePlatformGivesUpIsATransientFailureAndTheNextAttemptInvokesAgain() {
    QueueingEndpoint endpoint = new QueueingEndpoint();
    endpoint.resultWithin = Duration.ofMinutes(10);
    Fixture f = fixture(endpoint);
    f.submitAndGrant();
    awaitInvoked(f);

    f.clock.advance(Duration.ofMinutes(11));

    f.awaitStatus(JobStatus.RETRY_WAIT);
    var retry = (RequestState.RetryWait) f.kit.getState();
    assertThat(retry.error()).contains("no answer at").contains("invocation-timeout + request-ttl");
    f.kit.runCommand(RequestCommand.Timer.RETRY_DUE);
    f.grant(f.expectAcquire());
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(endpoint.invocations).hasSize(2));
    assertThat(endpoint.invocations.get(1).attempt()).isEqualTo(2);
  }

  @Test
  void aModelThatReadsItsInputsItselfGetsTheirUris() {
    QueueingEndpoint endpoint = new QueueingEndpoint();
    endpoint.byReference = true;
    Fixture f = fixture(endpoint);
    f.submitAndGrant();
    RequestState.AsyncCall call = awaitInvoked(f);

    String staged = new String(f.blobs.object(call.staged()).orElseThrow().content(), StandardCharsets.UTF_8);
    assertThat(staged).contains("\"image\":\"" + IMAGE + "\"").contains("\"mask\":\"" + MASK + "\"")
        .doesNotContain("aW1hZ2UtYnl0ZXM=");
  }

  @Test
  void anEndpointWithoutCapacityYetSendsTheJobBackToTheQueueWithoutSpendingAnAttempt() {
    Fixture f = new Fixture();
    f.model.then(() -> CompletableFuture.failedFuture(InferenceException.notReady(
        "Inference Component has no capacity to process this request", null)));
    var grant = f.submitAndGrant();

    assertThat(f.expectRelease().leaseId()).isEqualTo(grant.leaseId());
    f.grant(f.expectAcquire()); // asked again after backoff-min (2 s here)

    f.awaitStatus(JobStatus.SUCCEEDED);
    assertThat(f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().attempts()).isEqualTo(1);
    assertThat(f.events()).hasAtLeastOneElementOfType(Request.AttemptNotRun.class);
    assertThat(f.model.calls.get()).isEqualTo(2);
  }

  @Test
  void aFailureAllowedTwoAttemptsFailsTheJobOnTheSecondWhateverMaxAttemptsSays() {
    Fixture f = new Fixture(Options.DEFAULTS.maxAttempts(5));
    for (int i = 0; i < 2; i++) {
      f.model.then(() -> CompletableFuture.failedFuture(InferenceException.transientAtMost(2,
          "ModelError: invocation timed out (original status 0)", null)));
    }
    f.submitAndGrant();
    f.awaitStatus(JobStatus.RETRY_WAIT);
    f.kit.runCommand(RequestCommand.Timer.RETRY_DUE);
    f.grant(f.expectAcquire());

    f.awaitStatus(JobStatus.FAILED);
    var job = f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job();
    assertThat(job.attempts()).isEqualTo(2);
    assertThat(job.error()).contains("gave up after 2 attempts").contains("timed out");
  }
}
