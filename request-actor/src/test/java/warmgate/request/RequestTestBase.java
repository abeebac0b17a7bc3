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
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import warmgate.config.InputLimits;
import warmgate.config.RequestSettings;
import warmgate.config.WebhookSettings;
import warmgate.endpoint.EndpointCommand;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.job.ObjectRef;
import warmgate.job.Priority;
import warmgate.provider.InferenceClient;
import warmgate.provider.InferenceException;
import warmgate.request.RequestCommand.Granted;
import warmgate.request.RequestCommand.JobLookup;
import warmgate.request.RequestCommand.Submit;
import warmgate.request.RequestCommand.Submitted;
import warmgate.testing.InMemoryBlobStore;
import warmgate.testing.ManualClock;

// The Request entity tests' fixture: in-memory journal and blobs, a scripted model, a probe as the endpoint.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(TestKitJUnit5Extension.class)
abstract class RequestTestBase {
  static final Duration WAIT = Duration.ofSeconds(5);
  static final ObjectRef IMAGE = new ObjectRef("gen3d", "users/alice/input/cat_image.png");
  static final ObjectRef MASK = new ObjectRef("gen3d", "users/alice/input/cat_mask.png");
  static final ObjectRef OUTPUT = new ObjectRef("gen3d", "users/alice/output/cat.ply");
  static final JobSpec SPEC =
      new JobSpec("gen3d", "alice", Map.of("image", IMAGE, "mask", MASK), OUTPUT, null, null, IMAGE.toString(), false);
  static final JobSpec REVIEWED = SPEC.withRouteOptions(true, null, Priority.INTERACTIVE, false);
  static final JobSpec CALLED_BACK = SPEC.withRouteOptions(false, "https://hooks.example.com/warmgate",
      Priority.INTERACTIVE, false);
  /** From a route with {@code warm-on-first-input = on}. */
  static final JobSpec WARMING = SPEC.withRouteOptions(false, null, Priority.INTERACTIVE, true);
  static final AtomicInteger ids = new AtomicInteger();

  @JUnit5TestKit
  public ActorTestKit testKit =
      new JUnit5TestKitBuilder().withCustomConfig(ConfigFactory.parseString(
          // runCommand and expectations wait this long for an answer: 3 s was seen to pass on a loaded machine.
          "pekko.actor.testkit.typed.single-expect-default = 10s")
          .withFallback(EventSourcedBehaviorTestKit.config())
          .withFallback(ConfigFactory.load())).build();

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
          : CompletableFuture.completedFuture(new InferenceResponse("ply\n".getBytes(StandardCharsets.US_ASCII),
              "application/octet-stream"));
    }
  }

  static final WebhookSettings WEBHOOKS =
      new WebhookSettings("s3cret", List.of("hooks.example.com"), false, Duration.ofSeconds(5), 3,
          Duration.ofMillis(50), Duration.ofMillis(200));

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
      return answer != null && answer == HANG ? new CompletableFuture<>()
          : CompletableFuture.completedFuture(answer == null ? 204 : answer);
    }
  }

  /** What a job reported, as lines: "transition gen3d QUEUED", "queueWait gen3d PT30S", "finished gen3d SUCCEEDED
   * PT47S". */
  static final class RecordingMetrics implements JobMetrics {
    final List<String> reported = new CopyOnWriteArrayList<>();
    final AtomicInteger journalWrites = new AtomicInteger();

    @Override
    public void transition(String endpoint, JobStatus status) {
      reported.add("transition " + endpoint + " " + status);
    }

    @Override
    public void queueWait(String endpoint, String owner, Duration waited) {
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
        job instanceof RequestState.Failed failed && failed.owesReport(), job.core().callback() != null,
        job.core().spec().priority());
  }

  static String persistenceIdOf(String jobId) {
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
  record Options(String jobId, int maxAttempts, Duration passivateAfter, Duration parkAfter, Duration acquireInterval,
      Duration resultLookFirst, boolean parkAtOnce) {
    static final Options DEFAULTS = new Options(null, 3, Duration.ofHours(1), Duration.ZERO, Duration.ofMillis(300),
        Duration.ofMillis(100), false);

    Options jobId(String id) {
      return new Options(id, maxAttempts, passivateAfter, parkAfter, acquireInterval, resultLookFirst, parkAtOnce);
    }

    Options maxAttempts(int n) {
      return new Options(jobId, n, passivateAfter, parkAfter, acquireInterval, resultLookFirst, parkAtOnce);
    }

    Options passivateAfter(Duration d) {
      return new Options(jobId, maxAttempts, d, parkAfter, acquireInterval, resultLookFirst, parkAtOnce);
    }

    Options parkAfter(Duration d) {
      return new Options(jobId, maxAttempts, passivateAfter, d, acquireInterval, resultLookFirst, parkAtOnce);
    }

    Options acquireInterval(Duration d) {
      return new Options(jobId, maxAttempts, passivateAfter, parkAfter, d, resultLookFirst, parkAtOnce);
    }

    /** How long an async attempt waits before its first look (and the longest look is four times that). */
    Options resultLookFirst(Duration d) {
      return new Options(jobId, maxAttempts, passivateAfter, parkAfter, acquireInterval, d, parkAtOnce);
    }

    /** Queued, the job asks to park at once ({@code park-at-once}); needs a non-zero {@code parkAfter}. */
    Options parkAtOnce(boolean on) {
      return new Options(jobId, maxAttempts, passivateAfter, parkAfter, acquireInterval, resultLookFirst, on);
    }
  }

  final class Fixture {
    final String jobId;
    final InMemoryBlobStore blobs = new InMemoryBlobStore();
    /** Writes asked of the store, including those that failed. */
    final AtomicInteger putCalls = new AtomicInteger();
    /** While set, writes wait for it before they reach the store. */
    final AtomicReference<CompletableFuture<Void>> heldWrites = new AtomicReference<>();
    final ScriptedModel model = new ScriptedModel();
    /** Stands in for {@link #model} when set: e.g. an asynchronous endpoint. */
    volatile InferenceClient client;
    /** The endpoint's input limits; none unless a test sets them. */
    volatile InputLimits limits = new InputLimits(Long.MAX_VALUE, Long.MAX_VALUE);
    final ManualClock clock = new ManualClock();
    final TestProbe<EndpointCommand> endpoint = testKit.createTestProbe();
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
          Duration.ofMinutes(10), Duration.ofMillis(100), Duration.ofSeconds(30), passivateAfter, parkAfter,
          options.resultLookFirst(), options.resultLookFirst().multipliedBy(4), options.parkAtOnce());
      var deps = new RequestEntity.Deps(new InferenceStep(countingPuts(blobs, putCalls, heldWrites),
          name -> client != null ? client : model, name -> limits, PayloadBudget.unbounded()),
          name -> endpoint.ref(), settings, webhooks,
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

    EventSourcedBehaviorTestKit.CommandResultWithReply<RequestCommand, Request.Event, RequestState,
        StatusReply<JobLookup>> cancel() {
      return kit.runCommand(replyTo -> new RequestCommand.Cancel("not needed any more", replyTo));
    }

    /** The next request for a slot, passing over releases and renewals sent before it. */
    EndpointCommand.Acquire expectAcquire() {
      return (EndpointCommand.Acquire) fish(EndpointCommand.Acquire.class);
    }

    private EndpointCommand fish(Class<? extends EndpointCommand> type) {
      List<EndpointCommand> seen = endpoint.fishForMessage(WAIT, m -> type.isInstance(m)
          ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
          : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
      return seen.get(seen.size() - 1);
    }

    /** Submits with inputs present and answers the first request for a slot. */
    EndpointCommand.Grant submitAndGrant() {
      uploadInputs();
      submit(SPEC);
      return grant(expectAcquire());
    }

    EndpointCommand.Grant grant(EndpointCommand.Acquire acquire) {
      var grant = new EndpointCommand.Grant("gen3d", acquire.jobId(), "lease-" + ids.incrementAndGet(),
          Duration.ofMinutes(1));
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
      return kit.persistenceTestKit().persistedInStorage(persistenceIdOf(jobId)).stream().map(Request.Event.class::cast)
          .toList();
    }

    /** Waits until the failed job has given up its error report for good. */
    RequestState.Failed awaitReportAbandoned() {
      endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(kit.getState())
          .isInstanceOfSatisfying(RequestState.Failed.class,
              failed -> assertThat(failed.reportAbandoned()).isNotNull()));
      return (RequestState.Failed) kit.getState();
    }

    /** Waits until the failed job's error report is written and recorded. */
    void awaitReported() {
      endpointIgnoringProbe().awaitAssert(WAIT, () -> assertThat(kit.getState())
          .isInstanceOfSatisfying(RequestState.Failed.class, failed -> assertThat(failed.reported()).isTrue()));
    }

    /** The next release of a slot or of a place in the queue. */
    EndpointCommand.Release expectRelease() {
      return (EndpointCommand.Release) fish(EndpointCommand.Release.class);
    }

    /** The next request to park. */
    EndpointCommand.Park expectPark() {
      return (EndpointCommand.Park) fish(EndpointCommand.Park.class);
    }
  }

  /** A store that counts the writes asked of it, also those that fail. */
  private static warmgate.blob.BlobStore countingPuts(InMemoryBlobStore blobs, AtomicInteger putCalls,
      AtomicReference<CompletableFuture<Void>> heldWrites) {
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
      public CompletionStage<warmgate.blob.BlobInfo> put(ObjectRef ref, byte[] content, String contentType, Map<String,
          String> metadata) {
        putCalls.incrementAndGet();
        CompletableFuture<Void> held = heldWrites.get();
        return held == null ? blobs.put(ref, content, contentType, metadata) : held.thenCompose(v -> blobs.put(ref,
            content, contentType, metadata));
      }

      @Override
      public CompletionStage<warmgate.blob.BlobInfo> copy(ObjectRef from, ObjectRef to, Map<String,
          String> metadata) {
        putCalls.incrementAndGet();
        return blobs.copy(from, to, metadata);
      }

      @Override
      public CompletionStage<Void> delete(ObjectRef ref) {
        return blobs.delete(ref);
      }
    };
  }

  static JobSpec specWith(ObjectRef mask, ObjectRef output) {
    return new JobSpec("gen3d", "alice", Map.of("image", IMAGE, "mask", mask), output, null, null, IMAGE.toString(),
        false);
  }

  /** Nothing more happens: no event, no write, for longer than the first backoff of an error report. */
  static void assertAtRest(Fixture f) {
    List<Request.Event> before = f.events();
    int puts = f.putCalls.get();
    f.endpointIgnoringProbe().expectNoMessage(f.settings.backoffMin().plusMillis(500));
    assertThat(f.events()).as("events after the job came to rest").isEqualTo(before);
    assertThat(f.putCalls.get()).as("writes after the job came to rest").isEqualTo(puts);
    assertThat(((RequestState.Job) f.kit.getState()).hasWork()).isFalse();
    assertThat(JobSummary.fold(f.events()).orElseThrow().hasWork()).as("the waker's answer").isFalse();
  }
}
