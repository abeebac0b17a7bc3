package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import warmgate.Json;
import warmgate.config.RequestSettings;
import warmgate.config.WebhookSettings;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.endpoint.InferenceClient;
import warmgate.endpoint.InferenceException;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.job.ObjectRef;
import warmgate.request.Request.AttemptFailed;
import warmgate.request.Request.AttemptStarted;
import warmgate.request.RequestCommand.Granted;
import warmgate.request.Request.InputsMissing;
import warmgate.request.Request.JobFailed;
import warmgate.request.RequestCommand.JobLookup;
import warmgate.request.Request.JobSubmitted;
import warmgate.request.RequestCommand.JobView;
import warmgate.request.RequestCommand.Submit;
import warmgate.request.RequestCommand.Submitted;
import warmgate.testing.CapturedLogs;
import warmgate.testing.InMemoryBlobStore;
import warmgate.testing.ManualClock;

// In-memory journal (EventSourcedBehaviorTestKit), in-memory blobs, a scripted model and a probe as the endpoint.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(TestKitJUnit5Extension.class)
class RequestTest {
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final ObjectRef IMAGE = new ObjectRef("gen3d", "users/alice/input/cat_image.png");
  private static final ObjectRef MASK = new ObjectRef("gen3d", "users/alice/input/cat_mask.png");
  private static final ObjectRef OUTPUT = new ObjectRef("gen3d", "users/alice/output/cat.ply");
  private static final JobSpec SPEC =
      new JobSpec("gen3d", "alice", Map.of("image", IMAGE, "mask", MASK), OUTPUT, null, null, IMAGE.toString(), false);
  private static final JobSpec REVIEWED = SPEC.withRouteOptions(true, null);
  private static final JobSpec CALLED_BACK = SPEC.withRouteOptions(false, "https://hooks.example.com/warmgate");
  private static final AtomicInteger ids = new AtomicInteger();

  @JUnit5TestKit
  public ActorTestKit testKit =
      new JUnit5TestKitBuilder().withCustomConfig(EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load())).build();

  /** A model whose answers the test scripts; unscripted calls succeed with a small PLY. */
  static final class ScriptedModel implements InferenceClient {
    final ConcurrentLinkedQueue<Supplier<CompletionStage<InferenceResponse>>> script = new ConcurrentLinkedQueue<>();
    final AtomicInteger calls = new AtomicInteger();
    volatile String lastBody;

    void then(Supplier<CompletionStage<InferenceResponse>> answer) {
      script.add(answer);
    }

    void thenFail(InferenceException.Kind kind, String message) {
      then(() -> CompletableFuture.failedFuture(new InferenceException(kind, message)));
    }

    void thenHang() {
      then(CompletableFuture::new);
    }

    @Override
    public CompletionStage<InferenceResponse> invoke(String contentType, byte[] body) {
      calls.incrementAndGet();
      lastBody = new String(body, StandardCharsets.UTF_8);
      Supplier<CompletionStage<InferenceResponse>> next = script.poll();
      return next != null ? next.get()
          : CompletableFuture.completedFuture(new InferenceResponse("ply\n".getBytes(StandardCharsets.US_ASCII), "application/octet-stream"));
    }
  }

  private static final WebhookSettings WEBHOOKS =
      new WebhookSettings("s3cret", List.of("hooks.example.com"), false, Duration.ofSeconds(5), 3, Duration.ofMillis(50), Duration.ofMillis(200));

  /** A callback receiver whose answers the test scripts (HTTP statuses, {@link #HANG}); unscripted calls get 204. */
  static final class RecordingWebhooks implements Webhooks {
    record Delivery(String url, String webhookId, String body) {}

    final ConcurrentLinkedQueue<Delivery> deliveries = new ConcurrentLinkedQueue<>();
    static final int HANG = -1;
    final ConcurrentLinkedQueue<Integer> answers = new ConcurrentLinkedQueue<>();

    @Override
    public CompletionStage<Integer> send(String url, String webhookId, byte[] body) {
      deliveries.add(new Delivery(url, webhookId, new String(body, StandardCharsets.UTF_8)));
      Integer answer = answers.poll();
      return answer != null && answer == HANG ? new CompletableFuture<>() : CompletableFuture.completedFuture(answer == null ? 204 : answer);
    }
  }

  /** What a job reported, as lines: "transition gen3d QUEUED", "queueWait gen3d PT30S", "finished gen3d SUCCEEDED PT47S". */
  static final class RecordingMetrics implements JobMetrics {
    final List<String> reported = new CopyOnWriteArrayList<>();
    final AtomicInteger journalWrites = new AtomicInteger();

    @Override
    public void transition(String endpoint, JobStatus status) {
      reported.add("transition " + endpoint + " " + status);
    }

    @Override
    public void queueWait(String endpoint, Duration waited) {
      reported.add("queueWait " + endpoint + " " + waited);
    }

    @Override
    public void finished(String endpoint, JobStatus status, Duration sinceCreated) {
      reported.add("finished " + endpoint + " " + status + " " + sinceCreated);
    }

    @Override
    public void journalWrite(Duration duration) {
      if (!duration.isNegative()) { // a negative one would show as a write missing from the count
        journalWrites.incrementAndGet();
      }
    }
  }

  /** Every job a test ran: their histories go through the read side's fold afterwards. */
  private final List<Fixture> fixtures = new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * After every scenario, the read side's fold of each job's events ({@link JobSummary}) must say what the
   * entity's own state says: status, list fields and whether the job still has work. This runs the fold over
   * every history these tests produce, so a change to one fold without the other fails here.
   */
  @AfterEach
  void readSideFoldAgreesWithTheEntity() {
    checkFoldOfEarlierJobs();
  }

  /** Before a new job starts too, since each new EventSourcedBehaviorTestKit empties the shared journal. */
  private void checkFoldOfEarlierJobs() {
    try {
      for (Fixture f : fixtures) {
        endpointIgnoringProbeFor().awaitAssert(WAIT, () -> {
          RequestState before = f.kit.getState();
          List<Request.Event> events = f.kit.persistenceTestKit().persistedInStorage(persistenceIdOf(f.jobId)).stream()
              .map(Request.Event.class::cast)
              .toList();
          RequestState after = f.kit.getState();
          assertThat(after).as("the job moved on while its events were read").isEqualTo(before);
          if (after instanceof RequestState.Job job) {
            assertThat(JobSummary.fold(events)).as("the fold of %s", events).hasValue(summaryOf(job));
            assertThat(JobSummary.fold(events).orElseThrow().hasWork()).isEqualTo(job.hasWork());
          } else {
            assertThat(events).isEmpty();
          }
          return null;
        });
      }
    } finally {
      fixtures.clear();
    }
  }

  /** What the entity's state says, in the fold's terms. */
  private static JobSummary summaryOf(RequestState.Job job) {
    RequestCommand.JobView view = job.view();
    return new JobSummary(view.jobId(), view.status(), view.endpoint(), view.owner(), view.attempts(), view.createdAt(),
        view.updatedAt(), view.output(), view.error(), job.core().spec().callbackUrl() != null,
        job instanceof RequestState.Failed failed && failed.owesReport(), job.core().callback() != null);
  }

  private static String persistenceIdOf(String jobId) {
    return org.apache.pekko.persistence.typed.PersistenceId.of(RequestEntity.ENTITY_KEY.name(), jobId).id();
  }

  private TestProbe<Object> endpointIgnoringProbeFor() {
    return testKit.createTestProbe();
  }

  /**
   * How a test's job is set up; each wither changes one setting of the defaults.
   *
   * @param jobId null: a fresh id
   */
  record Options(String jobId, int maxAttempts, Duration passivateAfter, Duration parkAfter, Duration acquireInterval) {
    static final Options DEFAULTS = new Options(null, 3, Duration.ofHours(1), Duration.ZERO, Duration.ofMillis(300));

    Options jobId(String id) {
      return new Options(id, maxAttempts, passivateAfter, parkAfter, acquireInterval);
    }

    Options maxAttempts(int n) {
      return new Options(jobId, n, passivateAfter, parkAfter, acquireInterval);
    }

    Options passivateAfter(Duration d) {
      return new Options(jobId, maxAttempts, d, parkAfter, acquireInterval);
    }

    Options parkAfter(Duration d) {
      return new Options(jobId, maxAttempts, passivateAfter, d, acquireInterval);
    }

    Options acquireInterval(Duration d) {
      return new Options(jobId, maxAttempts, passivateAfter, parkAfter, d);
    }
  }

  private final class Fixture {
    final String jobId;
    final InMemoryBlobStore blobs = new InMemoryBlobStore();
    /** Writes asked of the store, including those that failed. */
    final AtomicInteger putCalls = new AtomicInteger();
    final ScriptedModel model = new ScriptedModel();
    final ManualClock clock = new ManualClock();
    final TestProbe<EndpointLifecycle.Command> endpoint = testKit.createTestProbe();
    final RecordingWebhooks webhooks = new RecordingWebhooks();
    final RecordingMetrics metrics = new RecordingMetrics();
    final RequestSettings settings;
    final EventSourcedBehaviorTestKit<RequestCommand, Request.Event, RequestState> kit;

    Fixture() {
      this(Options.DEFAULTS);
    }

    Fixture(Options options) {
      String jobId = options.jobId() != null ? options.jobId() : "job-" + ids.incrementAndGet();
      int maxAttempts = options.maxAttempts();
      Duration passivateAfter = options.passivateAfter();
      Duration parkAfter = options.parkAfter();
      Duration acquireInterval = options.acquireInterval();
      this.jobId = jobId;
      settings = new RequestSettings(maxAttempts, Duration.ofSeconds(2), Duration.ofMinutes(1), acquireInterval,
          Duration.ofMinutes(10), Duration.ofMillis(100), Duration.ofSeconds(30), passivateAfter, parkAfter);
      var deps = new RequestEntity.Deps(new InferenceStep(countingPuts(blobs, putCalls), name -> model), name -> endpoint.ref(), settings, webhooks,
          WEBHOOKS, clock, metrics);
      checkFoldOfEarlierJobs();
      kit = EventSourcedBehaviorTestKit.create(testKit.system(), RequestEntity.create(jobId, deps, null));
      fixtures.add(this);
    }

    void uploadInputs() {
      blobs.put(IMAGE, "image-bytes".getBytes(StandardCharsets.UTF_8));
      blobs.put(MASK, "mask-bytes".getBytes(StandardCharsets.UTF_8));
    }

    StatusReply<Submitted> submit(JobSpec spec) {
      return kit.<StatusReply<Submitted>>runCommand(replyTo -> new Submit(spec, replyTo)).reply();
    }

    EventSourcedBehaviorTestKit.CommandResultWithReply<RequestCommand, Request.Event, RequestState, StatusReply<JobLookup>> cancel() {
      return kit.runCommand(replyTo -> new RequestCommand.Cancel("not needed any more", replyTo));
    }

    /** The next request for a slot, passing over releases and renewals sent before it. */
    EndpointLifecycle.Acquire expectAcquire() {
      return (EndpointLifecycle.Acquire) fish(EndpointLifecycle.Acquire.class);
    }

    private EndpointLifecycle.Command fish(Class<? extends EndpointLifecycle.Command> type) {
      List<EndpointLifecycle.Command> seen = endpoint.fishForMessage(WAIT, m -> type.isInstance(m)
          ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
          : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
      return seen.get(seen.size() - 1);
    }

    /** Submits with inputs present and answers the first request for a slot. */
    EndpointLifecycle.Grant submitAndGrant() {
      uploadInputs();
      submit(SPEC);
      return grant(expectAcquire());
    }

    EndpointLifecycle.Grant grant(EndpointLifecycle.Acquire acquire) {
      var grant = new EndpointLifecycle.Grant("gen3d", acquire.jobId(), "lease-" + ids.incrementAndGet(), Duration.ofMinutes(1));
      kit.runCommand(new Granted(grant));
      return grant;
    }

    JobStatus status() {
      return kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().status();
    }

    void awaitStatus(JobStatus status) {
      endpointIgnoringProbe().awaitAssert(WAIT, () -> {
        assertThat(status()).isEqualTo(status);
        return null;
      });
    }

    TestProbe<Object> endpointIgnoringProbe() {
      return testKit.createTestProbe();
    }

    /** The events in the journal, oldest first. */
    List<Request.Event> events() {
      return kit.persistenceTestKit().persistedInStorage(persistenceIdOf(jobId)).stream().map(Request.Event.class::cast).toList();
    }

    /** Waits until the failed job has given up its error report for good. */
    RequestState.Failed awaitReportAbandoned() {
      endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(kit.getState())
          .isInstanceOfSatisfying(RequestState.Failed.class, failed -> assertThat(failed.reportAbandoned()).isNotNull()));
      return (RequestState.Failed) kit.getState();
    }

    /** Waits until the failed job's error report is written and recorded. */
    void awaitReported() {
      endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(kit.getState())
          .isInstanceOfSatisfying(RequestState.Failed.class, failed -> assertThat(failed.reported()).isTrue()));
    }

    /** The next release of a slot or of a place in the queue. */
    EndpointLifecycle.Release expectRelease() {
      return (EndpointLifecycle.Release) fish(EndpointLifecycle.Release.class);
    }

    /** The next request to park. */
    EndpointLifecycle.Park expectPark() {
      return (EndpointLifecycle.Park) fish(EndpointLifecycle.Park.class);
    }
  }

  @Test
  void submittedJobWithItsInputsPresentAsksItsEndpointForASlot() {
    Fixture f = new Fixture();
    f.uploadInputs();

    var reply = f.submit(SPEC);

    assertThat(reply.isSuccess()).isTrue();
    assertThat(reply.getValue().duplicate()).isFalse();
    assertThat(reply.getValue().job().jobId()).isEqualTo(f.jobId);
    assertThat(f.expectAcquire().jobId()).isEqualTo(f.jobId);
    assertThat(f.status()).isEqualTo(JobStatus.QUEUED);
  }

  @Test
  void queuedJobRepeatsItsRequestForASlotUntilGranted() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);

    f.expectAcquire();
    f.expectAcquire(); // the endpoint may have restarted and lost its queue; asking again rebuilds it
  }

  @Test
  void submittedJobStaysInMemoryPastPassivateAfterWhileItWaitsForASlot() {
    Fixture f = new Fixture(Options.DEFAULTS.passivateAfter(Duration.ofMillis(200)));
    f.uploadInputs();
    f.submit(SPEC);
    f.expectAcquire();

    f.endpointIgnoringProbe().expectNoMessage(Duration.ofMillis(800)); // four times passivate-after

    assertThat(f.status()).isEqualTo(JobStatus.QUEUED);
    f.expectAcquire(); // still asking: the actor did not stop
  }

  @Test
  void aJobQueuedPastParkAfterParksStopsAskingAndItsGrantWakesItToRun() {
    // Asks for a slot every 10 s: no ask comes between the park and its answer, so the park holds.
    Fixture f = new Fixture(Options.DEFAULTS.parkAfter(Duration.ofMillis(200)).acquireInterval(Duration.ofSeconds(10)));
    f.uploadInputs();
    f.submit(SPEC);
    f.expectAcquire();

    EndpointLifecycle.Park park = f.expectPark();
    assertThat(park.jobId()).isEqualTo(f.jobId);
    park.replyTo().tell(new EndpointLifecycle.Parked("gen3d", f.jobId));

    f.endpoint.expectNoMessage(Duration.ofSeconds(1)); // parked: it neither asks nor parks again
    // Its grant reaches it through sharding, which starts a new actor; recovered as QUEUED, it takes the slot.
    f.kit.restart();
    assertThat(f.status()).isEqualTo(JobStatus.QUEUED);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);
  }

  @Test
  void aJobThatAskedForASlotAfterItsParkStaysAndParksLater() {
    Fixture f = new Fixture(Options.DEFAULTS.parkAfter(Duration.ofMillis(700)));
    f.uploadInputs();
    f.submit(SPEC);

    EndpointLifecycle.Park park = f.expectPark();
    f.expectAcquire(); // sent after the park: answered after it, it gave the endpoint this actor again
    park.replyTo().tell(new EndpointLifecycle.Parked("gen3d", f.jobId));

    f.expectAcquire(); // not parked: still asking
    assertThat(f.expectPark().jobId()).as("and trying to park again").isEqualTo(f.jobId);
  }

  @Test
  void imageBeforeMaskWaitsForTheMaskThenQueues() {
    Fixture f = new Fixture();
    f.blobs.put(IMAGE, new byte[] {1});

    f.submit(SPEC);

    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> {
      assertThat(f.kit.getState()).isInstanceOfSatisfying(RequestState.WaitingForInputs.class,
          w -> assertThat(w.missing()).containsExactly("mask"));
      return null;
    });
    assertThat(f.status()).isEqualTo(JobStatus.WAITING_FOR_INPUTS);
    f.endpoint.expectNoMessage(Duration.ofMillis(300));

    f.blobs.put(MASK, new byte[] {2});

    assertThat(f.expectAcquire().jobId()).isEqualTo(f.jobId);
    assertThat(f.status()).isEqualTo(JobStatus.QUEUED);
  }

  @Test
  void maskThatNeverArrivesFailsTheJobWithAClearReason() {
    Fixture f = new Fixture();
    f.blobs.put(IMAGE, new byte[] {1});
    f.submit(SPEC);
    f.awaitStatus(JobStatus.WAITING_FOR_INPUTS);

    f.clock.advance(Duration.ofMinutes(10));

    f.awaitStatus(JobStatus.FAILED);
    String error = f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().error();
    assertThat(error).contains("mask " + MASK).contains("did not arrive within 600 s");
  }

  @Test
  void secondDeliveryOfTheSameJobIsADuplicateAndPersistsNothing() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);

    var second = f.kit.<StatusReply<Submitted>>runCommand(replyTo -> new Submit(SPEC, replyTo));

    assertThat(second.reply().getValue().duplicate()).isTrue();
    assertThat(second.reply().getValue().sameRequest()).isTrue();
    assertThat(second.events()).isEmpty();
  }

  @Test
  void sameIdWithADifferentRequestIsReportedAsNotTheSameRequest() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);
    JobSpec other = new JobSpec("gen3d", "alice", Map.of("image", IMAGE), OUTPUT, null, null, "http", false);

    var reply = f.submit(other);

    assertThat(reply.getValue().duplicate()).isTrue();
    assertThat(reply.getValue().sameRequest()).isFalse();
  }

  @Test
  void grantedJobRunsWritesItsOutputStampedWithItsIdAndSucceeds() {
    Fixture f = new Fixture();
    var grant = f.submitAndGrant();

    f.awaitStatus(JobStatus.SUCCEEDED);

    var output = f.blobs.object(OUTPUT).orElseThrow();
    assertThat(new String(output.content(), StandardCharsets.US_ASCII)).isEqualTo("ply\n");
    assertThat(output.info().metadata())
        .containsEntry(InferenceStep.JOB_ID_METADATA, f.jobId)
        .containsEntry(InferenceStep.ATTEMPT_METADATA, "1");
    assertThat(f.model.lastBody).contains("\"image\":\"aW1hZ2UtYnl0ZXM=\"").contains("\"mask\":\"bWFzay1ieXRlcw==\"");
    assertThat(f.expectRelease().leaseId()).isEqualTo(grant.leaseId());
  }

  @Test
  void transientFailureReleasesTheSlotAndRetriesAfterABackoffWithJitter() {
    Fixture f = new Fixture();
    f.model.thenFail(InferenceException.Kind.TRANSIENT, "503 from the model");
    var grant = f.submitAndGrant();

    f.awaitStatus(JobStatus.RETRY_WAIT);

    assertThat(f.expectRelease().leaseId()).isEqualTo(grant.leaseId());
    var retry = (RequestState.RetryWait) f.kit.getState();
    Duration delay = Duration.between(f.clock.instant(), retry.retryAt());
    assertThat(delay).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(2)); // backoff-min 2 s, half of it jitter
    assertThat(retry.error()).contains("503 from the model");

    f.kit.runCommand(RequestCommand.Timer.RETRY_DUE);
    f.grant(f.expectAcquire());

    f.awaitStatus(JobStatus.SUCCEEDED);
    assertThat(f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().attempts()).isEqualTo(2);
  }

  @Test
  void permanentFailureFailsAtOnceAndReturnsTheSlot() {
    Fixture f = new Fixture();
    f.model.thenFail(InferenceException.Kind.PERMANENT, "model answered 400: mask must match the image");
    var grant = f.submitAndGrant();

    f.awaitStatus(JobStatus.FAILED);

    assertThat(f.expectRelease().leaseId()).isEqualTo(grant.leaseId());
    var job = f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job();
    assertThat(job.attempts()).isEqualTo(1);
    assertThat(job.error()).contains("failed permanently").contains("mask must match");
    assertThat(f.model.calls.get()).isEqualTo(1);
  }

  @Test
  void inputDeletedBeforeTheRunIsAPermanentFailure() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);
    var acquire = f.expectAcquire();
    InMemoryBlobStore blobs = f.blobs;
    blobs.failWith(new warmgate.blob.BlobNotFoundException(MASK));

    f.grant(acquire);

    f.awaitStatus(JobStatus.FAILED);
    assertThat(f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().error()).contains("input " + MASK + " does not exist");
  }

  @Test
  void exhaustedRetriesFailTheJobWithTheLastError() {
    Fixture f = new Fixture(Options.DEFAULTS.maxAttempts(2));
    f.model.thenFail(InferenceException.Kind.TRANSIENT, "throttled");
    f.model.thenFail(InferenceException.Kind.TRANSIENT, "still throttled");
    f.submitAndGrant();
    f.awaitStatus(JobStatus.RETRY_WAIT);

    f.kit.runCommand(RequestCommand.Timer.RETRY_DUE);
    f.grant(f.expectAcquire());

    f.awaitStatus(JobStatus.FAILED);
    assertThat(f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().error())
        .isEqualTo("gave up after 2 attempts; last error: still throttled");
  }

  @Test
  void runningJobRecoveredAfterACrashFindsItsWrittenOutputAndSucceedsWithoutRunningAgain() {
    Fixture f = new Fixture();
    f.model.thenHang();
    f.submitAndGrant();
    f.awaitStatus(JobStatus.RUNNING);
    // The output landed, but the node died before the success was recorded.
    f.blobs.put(OUTPUT, "ply\n".getBytes(StandardCharsets.US_ASCII), "application/octet-stream",
        Map.of(InferenceStep.JOB_ID_METADATA, f.jobId, InferenceStep.ATTEMPT_METADATA, "1")).toCompletableFuture().join();

    f.kit.restart();

    f.awaitStatus(JobStatus.SUCCEEDED);
    assertThat(f.model.calls.get()).isEqualTo(1);
  }

  @Test
  void runningJobRecoveredWithoutOutputCountsAnInterruptedAttemptAndRetries() {
    Fixture f = new Fixture();
    f.model.thenHang();
    f.submitAndGrant();
    f.awaitStatus(JobStatus.RUNNING);
    f.blobs.put(OUTPUT, "someone else's file".getBytes(StandardCharsets.UTF_8)); // not stamped with our job id

    f.kit.restart();

    f.awaitStatus(JobStatus.RETRY_WAIT);
    assertThat(((RequestState.RetryWait) f.kit.getState()).error()).contains("attempt 1 was interrupted");
    f.kit.runCommand(RequestCommand.Timer.RETRY_DUE);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);
    assertThat(f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().attempts()).isEqualTo(2);
  }

  @Test
  void queuedJobAsksForASlotAgainAfterRestart() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);
    f.expectAcquire();

    f.kit.restart();

    assertThat(f.expectAcquire().jobId()).isEqualTo(f.jobId);
  }

  @Test
  void transitionsAndTheWaitsTheyEndAreReportedFromTheEventsTimesButNotAgainOnRecovery() {
    Fixture f = new Fixture();
    var answer = new CompletableFuture<InferenceClient.InferenceResponse>();
    f.model.then(() -> answer);
    f.blobs.put(IMAGE, new byte[] {1});
    f.submit(SPEC);
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.kit.getState())
        .isInstanceOfSatisfying(RequestState.WaitingForInputs.class, w -> assertThat(w.missing()).containsExactly("mask")));

    f.clock.advance(Duration.ofSeconds(5));
    f.blobs.put(MASK, new byte[] {2});
    var acquire = f.expectAcquire(); // queued 5 s after its creation
    f.clock.advance(Duration.ofSeconds(30));
    f.grant(acquire);
    f.awaitStatus(JobStatus.RUNNING);
    f.clock.advance(Duration.ofSeconds(12));
    answer.complete(new InferenceClient.InferenceResponse("ply\n".getBytes(StandardCharsets.US_ASCII), "application/octet-stream"));
    f.awaitStatus(JobStatus.SUCCEEDED);

    assertThat(f.metrics.reported).containsExactly(
        "transition gen3d WAITING_FOR_INPUTS",
        "transition gen3d QUEUED",
        "transition gen3d RUNNING",
        "queueWait gen3d PT30S",
        "transition gen3d SUCCEEDED",
        "finished gen3d SUCCEEDED PT47S");
    assertThat(f.metrics.journalWrites).hasValue(5); // InputsMissing is written but changes no status

    f.kit.restart();

    assertThat(f.status()).isEqualTo(JobStatus.SUCCEEDED);
    assertThat(f.metrics.reported).hasSize(6);
    assertThat(f.metrics.journalWrites).hasValue(5);
  }

  @Test
  void everyLineAJobLogsCarriesItsIdAndEndpointInTheMdcAlsoAfterRecovery() {
    try (CapturedLogs logs = CapturedLogs.of(RequestEntity.class.getName())) {
      Fixture f = new Fixture();
      f.model.thenHang();
      f.submitAndGrant();
      f.awaitStatus(JobStatus.RUNNING);

      f.kit.restart();

      f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(logs.containing("was running attempt 1")).isNotEmpty());
      var lines = logs.containing("Job " + f.jobId + " ");
      assertThat(lines).extracting(e -> e.getFormattedMessage())
          .anyMatch(m -> m.contains("submitted for endpoint"))
          .anyMatch(m -> m.contains("runs attempt 1"))
          .anyMatch(m -> m.contains("was running attempt 1"));
      assertThat(lines).allSatisfy(e -> assertThat(e.getMDCPropertyMap())
          .containsEntry("jobId", f.jobId)
          .containsEntry("endpoint", "gen3d"));
    }
  }

  @Test
  void grantThatArrivesAfterTheJobEndedIsGivenBack() {
    Fixture f = new Fixture();
    f.submitAndGrant();
    f.awaitStatus(JobStatus.SUCCEEDED);
    f.expectRelease();

    var late = new EndpointLifecycle.Grant("gen3d", f.jobId, "late-lease", Duration.ofMinutes(1));
    f.kit.runCommand(new Granted(late));

    assertThat(f.expectRelease().leaseId()).isEqualTo("late-lease");
  }

  @Test
  void unknownJobIsAnsweredWithNothingAndPersistsNothing() {
    Fixture f = new Fixture();

    var result = f.kit.<JobLookup>runCommand(RequestCommand.Get::new);

    assertThat(result.reply().job()).isNull();
    assertThat(result.events()).isEmpty();
  }

  @Test
  void eventsTellTheWholeStoryInOrder() {
    Fixture f = new Fixture();
    f.model.thenFail(InferenceException.Kind.TRANSIENT, "timeout");
    f.blobs.put(IMAGE, new byte[] {1});
    f.submit(SPEC);
    f.awaitStatus(JobStatus.WAITING_FOR_INPUTS);
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> {
      assertThat(f.kit.getState()).isInstanceOfSatisfying(RequestState.WaitingForInputs.class, w -> assertThat(w.missing()).containsExactly("mask"));
      return null;
    });
    f.blobs.put(MASK, new byte[] {2});
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.RETRY_WAIT);
    f.kit.runCommand(RequestCommand.Timer.RETRY_DUE);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);

    List<Class<?>> types = f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId).stream()
        .<Class<?>>map(Object::getClass).toList();

    assertThat(types).containsExactly(JobSubmitted.class, InputsMissing.class, Request.JobQueued.class, AttemptStarted.class,
        AttemptFailed.class, Request.JobQueued.class, AttemptStarted.class, Request.JobSucceeded.class);
    assertThat(f.kit.restart().state()).isInstanceOf(RequestState.Succeeded.class);
  }

  @Test
  void replayOfAJobsStoredEventsGivesTheStateTheEntityHolds() {
    Fixture f = new Fixture();
    f.model.thenFail(InferenceException.Kind.TRANSIENT, "timeout");
    f.submitAndGrant();
    f.awaitStatus(JobStatus.RETRY_WAIT);
    f.kit.runCommand(RequestCommand.Timer.RETRY_DUE);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);

    List<Request.Event> stored = f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId).stream()
        .map(Request.Event.class::cast).toList();

    assertThat(RequestState.replay(stored)).isEqualTo(f.kit.getState());
    assertThat(RequestState.replay(stored.subList(0, 3))).isInstanceOfSatisfying(RequestState.Running.class, running -> {
      assertThat(running.attempt()).isEqualTo(1);
      assertThat(running.core().updatedAt()).isEqualTo(stored.get(2).at());
    });
    assertThat(RequestState.replay(List.of())).isEqualTo(new RequestState.Blank());
  }

  @Test
  void aWakeOnlyStartsTheJobWhichThenResumesWhereItWas() {
    Fixture f = new Fixture();
    f.submit(SPEC); // no inputs yet: the job waits for them

    f.kit.restart();
    var woken = f.kit.<org.apache.pekko.Done>runCommand(RequestCommand.Wake::new);
    f.uploadInputs();

    assertThat(woken.reply()).as("answered once recovered").isEqualTo(org.apache.pekko.Done.getInstance());
    assertThat(woken.hasNoEvents()).isTrue();
    assertThat(woken.state()).isInstanceOf(RequestState.WaitingForInputs.class);
    assertThat(f.expectAcquire().jobId()).as("the woken job kept looking for its inputs").isEqualTo(f.jobId);
  }

  @Test
  void aQueuedJobHasWorkLeftAndACancelledOneHasNone() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);
    f.awaitStatus(JobStatus.QUEUED);
    assertThat(((RequestState.Job) f.kit.getState()).hasWork()).isTrue();

    f.cancel();

    assertThat(((RequestState.Job) f.kit.getState()).hasWork()).isFalse();
  }

  @Test
  void failedJobStaysFailedAcrossRestart() {
    Fixture f = new Fixture();
    f.model.thenFail(InferenceException.Kind.PERMANENT, "bad input");
    f.submitAndGrant();
    f.awaitStatus(JobStatus.FAILED);

    assertThat(f.kit.restart().state()).isInstanceOfSatisfying(RequestState.Failed.class,
        failed -> assertThat(failed.error()).contains("bad input"));
    assertThat(f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId))
        .last().isInstanceOf(Request.ErrorReported.class);
  }

  // ---- Error report and redrive

  @Test
  void failedJobWritesItsErrorReportBesideTheOutput() throws Exception {
    Fixture f = new Fixture();
    f.model.thenFail(InferenceException.Kind.PERMANENT, "ModelError: the mask is empty");
    f.submitAndGrant();

    f.awaitReported();

    var report = Json.mapper().readTree(f.blobs.object(SPEC.errorOutput()).orElseThrow().content());
    assertThat(SPEC.errorOutput().key()).isEqualTo("users/alice/output/cat_error.json");
    assertThat(report.path("job").path("jobId").asText()).isEqualTo(f.jobId);
    assertThat(report.path("job").path("status").asText()).isEqualTo("FAILED");
    assertThat(report.path("job").path("error").asText()).contains("the mask is empty");
    assertThat(f.blobs.object(SPEC.errorOutput()).orElseThrow().info().metadata()).containsEntry(InferenceStep.JOB_ID_METADATA, f.jobId);
    assertThat(f.blobs.object(OUTPUT)).isEmpty();
  }

  @Test
  void errorReportIsWrittenOnceStorageIsBack() {
    Fixture f = new Fixture();
    var answer = new CompletableFuture<InferenceClient.InferenceResponse>();
    f.model.then(() -> answer);
    f.submitAndGrant();
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.model.calls.get()).isEqualTo(1));
    f.blobs.failWith(new IllegalStateException("S3 is unreachable"));

    answer.completeExceptionally(InferenceException.permanent("ModelError: bad input"));

    f.awaitStatus(JobStatus.FAILED);
    f.endpointIgnoringProbe().expectNoMessage(Duration.ofMillis(300));
    assertThat(((RequestState.Failed) f.kit.getState()).reported()).isFalse();
    f.blobs.failWith(null);
    f.awaitReported(); // the next try, backoff-min later
    assertThat(f.blobs.object(SPEC.errorOutput())).isPresent();
  }

  @Test
  void retryRedrivesAFailedJobWithAFreshAttemptBudgetAndRemovesTheOldErrorReport() {
    Fixture f = new Fixture(Options.DEFAULTS.maxAttempts(1));
    f.model.thenFail(InferenceException.Kind.TRANSIENT, "ThrottlingException");
    f.submitAndGrant();
    f.awaitReported();
    assertThat(((RequestState.Failed) f.kit.getState()).error()).contains("gave up after 1 attempts");

    var result = f.kit.<StatusReply<JobLookup>>runCommand(replyTo -> new RequestCommand.Retry("capacity is back", replyTo));

    assertThat(result.reply().getValue().job().status()).isEqualTo(JobStatus.WAITING_FOR_INPUTS);
    assertThat(result.eventOfType(Request.JobRetried.class).reason()).isEqualTo("capacity is back");
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);
    assertThat(f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().attempts()).as("attempts over all runs").isEqualTo(2);
    assertThat(f.blobs.object(OUTPUT)).isPresent();
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.blobs.object(SPEC.errorOutput())).isEmpty());
  }

  @Test
  void retryOfAJobThatHasNotFailedIsRefused() {
    Fixture f = new Fixture();
    f.submitAndGrant();
    f.awaitStatus(JobStatus.SUCCEEDED);

    var reply = f.kit.<StatusReply<JobLookup>>runCommand(replyTo -> new RequestCommand.Retry(null, replyTo)).reply();

    assertThat(reply.isError()).isTrue();
    assertThat(reply.getError().getMessage()).contains("SUCCEEDED", "only failed jobs");
  }

  // ---- Review

  @Test
  void reviewedJobHoldsItsResultAsideUntilApprovedThenPublishesIt() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(REVIEWED);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.AWAITING_REVIEW);
    var held = RequestState.heldOutput(f.jobId, REVIEWED);
    assertThat(f.blobs.object(OUTPUT)).as("nothing published before approval").isEmpty();
    assertThat(f.blobs.object(held)).isPresent();
    assertThat(f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job().heldOutput()).isEqualTo(held.toString());

    var reply = f.kit.<StatusReply<JobLookup>>runCommand(replyTo -> new RequestCommand.Approve("bob", replyTo)).reply();

    assertThat(reply.getValue().job().status()).isEqualTo(JobStatus.SUCCEEDED);
    assertThat(f.blobs.object(OUTPUT).orElseThrow().content()).isEqualTo("ply\n".getBytes(StandardCharsets.US_ASCII));
    assertThat(f.blobs.object(OUTPUT).orElseThrow().info().metadata()).containsEntry(InferenceStep.JOB_ID_METADATA, f.jobId);
    assertThat(f.blobs.object(held)).as("the held copy is removed").isEmpty();
    assertThat(f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId))
        .anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(Request.ResultApproved.class, a -> assertThat(a.reviewer()).isEqualTo("bob")));
  }

  @Test
  void rejectedResultIsDiscardedAndTheJobFailsWithTheReason() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(REVIEWED);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.AWAITING_REVIEW);

    var reply = f.kit.<StatusReply<JobLookup>>runCommand(replyTo -> new RequestCommand.Reject("bob", "holes in the mesh", replyTo)).reply();

    assertThat(reply.getValue().job().status()).isEqualTo(JobStatus.FAILED);
    assertThat(reply.getValue().job().error()).isEqualTo("rejected in review by bob: holes in the mesh");
    f.awaitReported();
    assertThat(f.blobs.object(OUTPUT)).isEmpty();
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.blobs.object(RequestState.heldOutput(f.jobId, REVIEWED))).isEmpty());
  }

  @Test
  void approveOrRejectOfAJobNotAwaitingReviewIsRefused() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);

    var approve = f.kit.<StatusReply<JobLookup>>runCommand(replyTo -> new RequestCommand.Approve("bob", replyTo)).reply();
    var reject = f.kit.<StatusReply<JobLookup>>runCommand(replyTo -> new RequestCommand.Reject("bob", "no", replyTo)).reply();

    assertThat(approve.getError().getMessage()).contains("QUEUED", "only jobs awaiting review");
    assertThat(reject.isError()).isTrue();
  }

  @Test
  void reviewedJobInterruptedWhileRunningFindsItsHeldResultAfterRestart() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(REVIEWED);
    var hung = new CompletableFuture<InferenceClient.InferenceResponse>();
    f.model.then(() -> hung);
    f.grant(f.expectAcquire());
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.model.calls.get()).isEqualTo(1));
    // The attempt wrote its result, then the node died before the event was persisted.
    f.blobs.put(RequestState.heldOutput(f.jobId, REVIEWED), "ply\n".getBytes(StandardCharsets.US_ASCII), "model/ply",
        Map.of(InferenceStep.JOB_ID_METADATA, f.jobId)).toCompletableFuture().join();

    f.kit.restart();

    f.awaitStatus(JobStatus.AWAITING_REVIEW);
    assertThat(f.blobs.object(OUTPUT)).isEmpty();
  }

  // ---- A FAILED endpoint

  @Test
  void refusalByAFailedEndpointPutsTheJobInRetryWaitWithoutUsingAnAttempt() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);
    f.expectAcquire();

    f.kit.runCommand(new RequestCommand.EndpointRefused(new EndpointLifecycle.Unavailable("gen3d", f.jobId,
        "endpoint gen3d is FAILED: gave up after 3 failed starts", Duration.ofMillis(200))));

    var job = f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job();
    assertThat(job.status()).isEqualTo(JobStatus.RETRY_WAIT);
    assertThat(job.error()).contains("FAILED", "gave up after 3 failed starts");
    assertThat(job.attempts()).isZero();
    // It asks again after the endpoint's retry-after (plus jitter), and runs once granted.
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);
  }

  // ---- Callbacks

  @Test
  void callbackReportsTheEndOnceWithAStableId() throws Exception {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(CALLED_BACK);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);

    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.webhooks.deliveries).hasSize(1));
    var delivery = f.webhooks.deliveries.peek();
    assertThat(delivery.url()).isEqualTo(CALLED_BACK.callbackUrl());
    assertThat(delivery.webhookId()).isEqualTo(f.jobId + ".0.succeeded");
    var body = Json.mapper().readTree(delivery.body());
    assertThat(body.path("type").asText()).isEqualTo("job.succeeded");
    assertThat(body.path("job").path("status").asText()).isEqualTo("SUCCEEDED");
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId))
        .last().isInstanceOf(Request.CallbackDelivered.class));
  }

  @Test
  void failingCallbackIsRetriedWithBackoffAndGivenUpWithoutTouchingTheJob() {
    Fixture f = new Fixture();
    f.webhooks.answers.addAll(List.of(503, 500, 502));
    f.uploadInputs();
    f.submit(CALLED_BACK);
    f.grant(f.expectAcquire());

    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId))
        .filteredOn(Request.CallbackFailed.class::isInstance).hasSize(3));
    var last = (Request.CallbackFailed) f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId).get(
        f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId).size() - 1);
    assertThat(last.retryAt()).as("given up after max-attempts").isNull();
    assertThat(last.error()).contains("HTTP 502");
    assertThat(f.webhooks.deliveries).hasSize(3).extracting(RecordingWebhooks.Delivery::webhookId).containsOnly(f.jobId + ".0.succeeded");
    assertThat(f.status()).isEqualTo(JobStatus.SUCCEEDED);
    assertThat(f.kit.getState()).isInstanceOfSatisfying(RequestState.Succeeded.class, s -> assertThat(s.core().callback()).isNull());
  }

  @Test
  void callbackStillOwedBeforeACrashIsDeliveredAfterRecovery() {
    Fixture f = new Fixture();
    f.webhooks.answers.add(RecordingWebhooks.HANG);
    f.uploadInputs();
    f.submit(CALLED_BACK);
    f.grant(f.expectAcquire());
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.webhooks.deliveries).hasSize(1));

    f.kit.restart(); // the node died while the first delivery was on its way

    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.kit.persistenceTestKit().persistedInStorage("Request|" + f.jobId))
        .last().isInstanceOf(Request.CallbackDelivered.class));
    assertThat(f.webhooks.deliveries).hasSize(2);
  }

  // ---- Cancellation

  @Test
  void cancelOfAQueuedJobEndsItAndTakesItOutOfTheEndpointsQueue() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);
    f.expectAcquire();

    var result = f.cancel();

    assertThat(result.reply().getValue().job().status()).isEqualTo(JobStatus.CANCELLED);
    assertThat(result.eventOfType(Request.JobCancelled.class).reason()).isEqualTo("not needed any more");
    assertThat(f.expectRelease().leaseId()).as("a release without lease leaves the queue").isNull();
    f.kit.runCommand(new Granted(new EndpointLifecycle.Grant("gen3d", f.jobId, "late", Duration.ofMinutes(1))));
    assertThat(f.expectRelease().leaseId()).isEqualTo("late");
    assertThat(f.model.calls.get()).isZero();
  }

  @Test
  void cancelOfAJobWaitingForItsMaskStopsTheWait() {
    Fixture f = new Fixture();
    f.blobs.put(IMAGE, new byte[] {1});
    f.submit(SPEC);
    f.awaitStatus(JobStatus.WAITING_FOR_INPUTS);

    assertThat(f.cancel().reply().getValue().job().status()).isEqualTo(JobStatus.CANCELLED);
    f.blobs.put(MASK, new byte[] {2});
    f.kit.runCommand(RequestCommand.Timer.CHECK_INPUTS);

    f.endpoint.expectNoMessage(Duration.ofMillis(300));
    assertThat(f.status()).isEqualTo(JobStatus.CANCELLED);
  }

  @Test
  void cancelOfARunningJobReturnsItsSlotAndDropsTheResultUnwritten() {
    Fixture f = new Fixture();
    CompletableFuture<InferenceClient.InferenceResponse> modelAnswer = new CompletableFuture<>();
    f.model.then(() -> modelAnswer);
    var grant = f.submitAndGrant();
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.model.calls.get()).isEqualTo(1));

    assertThat(f.cancel().reply().getValue().job().status()).isEqualTo(JobStatus.CANCELLED);
    assertThat(f.expectRelease().leaseId()).isEqualTo(grant.leaseId());

    modelAnswer.complete(new InferenceClient.InferenceResponse("ply\n".getBytes(StandardCharsets.US_ASCII), "model/ply"));
    f.endpoint.expectNoMessage(Duration.ofMillis(300));
    assertThat(f.blobs.object(OUTPUT)).isEmpty();
    assertThat(f.status()).isEqualTo(JobStatus.CANCELLED);
  }

  @Test
  void cancelOfAFinishedJobIsRefusedAndOfACancelledOneChangesNothing() {
    Fixture f = new Fixture();
    f.submitAndGrant();
    f.awaitStatus(JobStatus.SUCCEEDED);

    var refused = f.cancel();
    assertThat(refused.reply().isError()).isTrue();
    assertThat(refused.reply().getError().getMessage()).contains("is SUCCEEDED");
    assertThat(refused.hasNoEvents()).isTrue();

    Fixture other = new Fixture();
    other.uploadInputs();
    other.submit(SPEC);
    other.cancel();
    var again = other.cancel();
    assertThat(again.hasNoEvents()).isTrue();
    assertThat(again.reply().getValue().job().status()).isEqualTo(JobStatus.CANCELLED);
  }

  @Test
  void cancelOfAnUnknownJobAnswersNothingAndPersistsNothing() {
    Fixture f = new Fixture();

    var result = f.cancel();

    assertThat(result.reply().getValue().job()).isNull();
    assertThat(result.hasNoEvents()).isTrue();
  }

  @Test
  void cancelledJobStaysCancelledAcrossRestart() {
    Fixture f = new Fixture();
    f.uploadInputs();
    f.submit(SPEC);
    f.cancel();

    f.kit.restart();

    assertThat(f.status()).isEqualTo(JobStatus.CANCELLED);
  }

  // ---- No job that can never end: references that can never name an object

  /** A store that counts the writes asked of it, also those that fail. */
  private static warmgate.blob.BlobStore countingPuts(InMemoryBlobStore blobs, AtomicInteger putCalls) {
    return new warmgate.blob.BlobStore() {
      @Override
      public CompletionStage<java.util.Optional<warmgate.blob.BlobInfo>> head(ObjectRef ref) {
        return blobs.head(ref);
      }

      @Override
      public CompletionStage<warmgate.blob.Blob> get(ObjectRef ref) {
        return blobs.get(ref);
      }

      @Override
      public CompletionStage<warmgate.blob.BlobInfo> put(ObjectRef ref, byte[] content, String contentType, Map<String, String> metadata) {
        putCalls.incrementAndGet();
        return blobs.put(ref, content, contentType, metadata);
      }

      @Override
      public CompletionStage<Void> delete(ObjectRef ref) {
        return blobs.delete(ref);
      }
    };
  }

  private static JobSpec specWith(ObjectRef mask, ObjectRef output) {
    return new JobSpec("gen3d", "alice", Map.of("image", IMAGE, "mask", mask), output, null, null, IMAGE.toString(), false);
  }

  /** Nothing more happens: no event, no write, for longer than the first backoff of an error report. */
  private static void assertAtRest(Fixture f) {
    List<Request.Event> before = f.events();
    int puts = f.putCalls.get();
    f.endpointIgnoringProbe().expectNoMessage(f.settings.backoffMin().plusMillis(500));
    assertThat(f.events()).as("events after the job came to rest").isEqualTo(before);
    assertThat(f.putCalls.get()).as("writes after the job came to rest").isEqualTo(puts);
    assertThat(((RequestState.Job) f.kit.getState()).hasWork()).isFalse();
    assertThat(JobSummary.fold(f.events()).orElseThrow().hasWork()).as("the waker's answer").isFalse();
  }

  @Test
  void aJobWhoseInputCanNeverExistFailsAtOnceNamingTheInputAndTheRule() {
    Map<String, String> rules = Map.of(
        "users/alice/input/../cat_mask.png", "key-no-dot-segments",
        "users/alice/input/cat\0mask.png", "key-no-control-characters",
        "users/alice/input/cat\nmask.png", "key-no-control-characters",
        "users/alice/input/" + "m".repeat(1020) + ".png", "key-max-1024-bytes");
    rules.forEach((key, rule) -> {
      Fixture f = new Fixture();
      f.blobs.put(IMAGE, new byte[] {1});

      f.submit(specWith(new ObjectRef("gen3d", key), OUTPUT));

      f.awaitStatus(JobStatus.FAILED); // no clock advance: it did not wait out inputs-timeout
      String error = ((RequestState.Failed) f.kit.getState()).error();
      assertThat(error).as(rule).contains("input mask", "can never exist", "(rule: " + rule + ")");
      assertThat(f.events()).as(rule).noneMatch(InputsMissing.class::isInstance);
      f.awaitReported(); // the output is fine, so is its error report
      f.endpoint.expectNoMessage(Duration.ofMillis(100));
    });
  }

  @Test
  void anInputTheStoreRefusesFailsTheJobAtOnce() {
    Fixture f = new Fixture();
    f.blobs.failWith(new warmgate.blob.BlobRefusedException(IMAGE, "S3 answered 400 InvalidBucketName"));

    f.submit(SPEC);

    f.awaitStatus(JobStatus.FAILED);
    assertThat(((RequestState.Failed) f.kit.getState()).error()).contains("can never exist", "InvalidBucketName");
    f.awaitReportAbandoned(); // the same store refuses the report too
    assertAtRest(f);
  }

  @Test
  void aJobWhoseOutputCanNeverBeWrittenFailsBeforeItsModelRunsAndUsesNoAttempt() {
    Fixture f = new Fixture();
    f.uploadInputs();
    ObjectRef output = new ObjectRef("gen3d", "users/alice/output/cat\0.ply");

    f.submit(specWith(MASK, output));

    f.awaitStatus(JobStatus.FAILED);
    JobView job = f.kit.<JobLookup>runCommand(RequestCommand.Get::new).reply().job();
    assertThat(job.error()).contains("output", "can never be written", "(rule: key-no-control-characters)");
    assertThat(job.attempts()).isZero();
    assertThat(f.model.calls.get()).isZero();
    f.endpoint.expectNoMessage(Duration.ofMillis(100)); // it never asked for a slot
    assertThat(f.awaitReportAbandoned().reportAbandoned()).contains("(rule: key-no-control-characters)");
    assertThat(f.putCalls.get()).as("neither output nor report was sent to the store").isZero();
    assertAtRest(f);
  }

  @Test
  void anOutputTheStoreRefusesFailsTheJobAfterOneModelRunInsteadOfRetrying() {
    Fixture f = new Fixture(Options.DEFAULTS.maxAttempts(5));
    var answer = new CompletableFuture<InferenceClient.InferenceResponse>();
    f.model.then(() -> answer);
    f.submitAndGrant();
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.model.calls.get()).isEqualTo(1));
    f.blobs.failWith(new warmgate.blob.BlobRefusedException(OUTPUT, "S3 answered 404 NoSuchBucket"));

    answer.complete(new InferenceClient.InferenceResponse(new byte[] {1}, "application/octet-stream"));

    f.awaitStatus(JobStatus.FAILED);
    assertThat(((RequestState.Failed) f.kit.getState()).error()).contains("failed permanently", "NoSuchBucket");
    assertThat(f.model.calls.get()).as("not run again for an output that can never be written").isEqualTo(1);
    f.awaitReportAbandoned();
  }

  @Test
  void anErrorReportTheStoreRefusesIsGivenUpOnceAndTheJobComesToRest() {
    Fixture f = new Fixture();
    var answer = new CompletableFuture<InferenceClient.InferenceResponse>();
    f.model.then(() -> answer);
    f.submitAndGrant();
    f.endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(f.model.calls.get()).isEqualTo(1));
    f.blobs.failWith(new warmgate.blob.BlobRefusedException(SPEC.errorOutput(), "S3 answered 404 NoSuchBucket"));

    answer.completeExceptionally(InferenceException.permanent("ModelError: bad input"));

    RequestState.Failed failed = f.awaitReportAbandoned();
    assertThat(failed.error()).contains("bad input");
    assertThat(failed.reportAbandoned()).contains("error report", "NoSuchBucket");
    assertThat(f.events()).last().isInstanceOf(Request.ErrorReportAbandoned.class);
    assertThat(f.putCalls.get()).as("one write, not retried").isEqualTo(1);
    assertAtRest(f);
    assertThat(f.kit.restart().state()).isEqualTo(failed);
    assertAtRest(f);
  }

  @Test
  void aFailedJobWithAnAbandonedReportCanStillBeRedriven() {
    Fixture f = new Fixture();
    f.model.thenFail(InferenceException.Kind.PERMANENT, "ModelError: bad input");
    f.uploadInputs();
    // 1,020 bytes: the output may be written, but its {base}_error.json would be 1,027.
    ObjectRef output = new ObjectRef("gen3d", "users/alice/output/" + "o".repeat(997) + ".ply");
    f.submit(new JobSpec("gen3d", "alice", Map.of("image", IMAGE, "mask", MASK), output, null, null, IMAGE.toString(), false));
    f.grant(f.expectAcquire());
    assertThat(f.awaitReportAbandoned().reportAbandoned()).contains("(rule: key-max-1024-bytes)");

    var result = f.kit.<StatusReply<JobLookup>>runCommand(replyTo -> new RequestCommand.Retry("model fixed", replyTo));

    assertThat(result.reply().getValue().job().status()).isEqualTo(JobStatus.WAITING_FOR_INPUTS);
    f.grant(f.expectAcquire());
    f.awaitStatus(JobStatus.SUCCEEDED);
  }

  // ---- Journals written before references were checked (golden files)

  private static final java.time.Instant THEN = java.time.Instant.parse("2026-11-20T08:00:00Z");

  /** Recovers {@code f}'s job from the journal stored under {@code name}, which must read back as {@code events}. */
  private RequestState recoverFrom(Fixture f, String name, List<Request.Event> events) {
    List<Request.Event> stored = GoldenJournal.read(testKit.system(), name, events);
    f.kit.persistenceTestKit().persistForRecovery(persistenceIdOf(f.jobId), List.copyOf(stored));
    return f.kit.restart().state();
  }

  private Fixture oldJobFixture(String jobId) {
    return new Fixture(Options.DEFAULTS.jobId(jobId));
  }

  @Test
  void aJournaledJobWaitingForAnInputWithDotDotSegmentsRecoversIntoFailedWithItsReportAbandoned() {
    Fixture f = oldJobFixture("old-dot-segments");
    ObjectRef image = new ObjectRef("gen3d", "users/alice/../carol/input/cat_image.png");
    ObjectRef mask = new ObjectRef("gen3d", "users/alice/../carol/input/cat_mask.png");
    ObjectRef output = new ObjectRef("gen3d", "users/alice/../carol/output/cat.ply");
    JobSpec spec = new JobSpec("gen3d", "alice", Map.of("image", image, "mask", mask), output, null, null, image.toString(), false);

    recoverFrom(f, "input-dot-segments", List.of(
        new JobSubmitted(f.jobId, spec, THEN.plusSeconds(600), THEN),
        new InputsMissing(List.of("mask"), THEN.plusSeconds(2))));

    RequestState.Failed failed = f.awaitReportAbandoned();
    assertThat(failed.error()).contains("input image", "can never exist", "(rule: key-no-dot-segments)");
    assertThat(failed.reportAbandoned()).contains("(rule: key-no-dot-segments)");
    assertThat(f.events()).extracting(e -> e.getClass().getSimpleName())
        .containsExactly("JobSubmitted", "InputsMissing", "JobFailed", "ErrorReportAbandoned");
    f.endpoint.expectNoMessage(Duration.ofMillis(100));
    assertAtRest(f);
  }

  @Test
  void aJournaledQueuedJobWhoseOutputHoldsANulFailsWithoutInvokingTheModel() {
    Fixture f = oldJobFixture("old-nul-output");
    f.uploadInputs();
    ObjectRef output = new ObjectRef("gen3d", "users/alice/output/cat\0.ply");

    RequestState recovered = recoverFrom(f, "output-nul", List.of(
        new JobSubmitted(f.jobId, specWith(MASK, output), THEN.plusSeconds(600), THEN),
        new Request.JobQueued(THEN.plusSeconds(1))));
    assertThat(recovered).isInstanceOf(RequestState.Queued.class);
    f.grant(f.expectAcquire()); // queued before the check at the inputs existed: the run refuses it

    RequestState.Failed failed = f.awaitReportAbandoned();
    assertThat(failed.error()).contains("failed permanently", "output", "can never be written", "(rule: key-no-control-characters)");
    assertThat(f.model.calls.get()).isZero();
    assertThat(f.putCalls.get()).isZero();
    assertThat(f.expectRelease().jobId()).as("the slot is returned").isEqualTo(f.jobId);
    assertAtRest(f);
  }

  @Test
  void aJournaledFailedJobWhoseErrorReportCanNeverBeWrittenGivesItUpOnRecovery() {
    Fixture f = oldJobFixture("old-failed-unreportable");
    f.uploadInputs();
    ObjectRef output = new ObjectRef("gen3d", "users/alice/../output/cat.ply");

    RequestState recovered = recoverFrom(f, "failed-report-unwritable", List.of(
        new JobSubmitted(f.jobId, specWith(MASK, output), THEN.plusSeconds(600), THEN),
        new Request.JobQueued(THEN.plusSeconds(1)),
        new AttemptStarted(1, "lease-1", THEN.plusSeconds(2)),
        new JobFailed("attempt 1 failed permanently: ModelError: bad input", THEN.plusSeconds(3))));
    assertThat(recovered).isInstanceOfSatisfying(RequestState.Failed.class, r -> assertThat(r.owesReport()).isTrue());

    RequestState.Failed failed = f.awaitReportAbandoned();
    assertThat(failed.error()).isEqualTo("attempt 1 failed permanently: ModelError: bad input");
    assertThat(failed.reportAbandoned()).contains("error report", "(rule: key-no-dot-segments)");
    assertThat(f.putCalls.get()).isZero();
    assertAtRest(f);
    assertThat(f.kit.restart().state()).as("recovered again, it has nothing left to do").isEqualTo(failed);
    assertAtRest(f);
  }
}
