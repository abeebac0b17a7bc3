package warmgate.index;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import warmgate.endpoint.EndpointCommand;
import warmgate.job.JobStatus;
import warmgate.job.Priority;

// No database, no cluster: the waker with an index and progress in memory, and a probe for the jobs it wakes.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JobWakerTest {
  private final ActorTestKit testKit = ActorTestKit.create(
      ConfigFactory.parseString("pekko.remote.artery.canonical.port = 0").withFallback(ConfigFactory.load()));

  @AfterAll
  void stop() {
    testKit.shutdownTestKit();
  }

  /** Jobs with work in memory; {@link #gate}, while set, holds every answer back until it completes. */
  static final class Index implements JobIndex {
    final List<String> withWork = new CopyOnWriteArrayList<>();
    /** Of {@link #withWork}, those QUEUED (on endpoint "m"); the others are RUNNING. */
    final List<String> queued = new CopyOnWriteArrayList<>();
    final AtomicReference<CompletableFuture<Void>> gate = new AtomicReference<>();

    @Override
    public CompletionStage<List<Work>> withWork(String afterJobId, int limit) {
      List<Work> page = withWork.stream().sorted().filter(id -> afterJobId == null
          || id.compareTo(afterJobId) > 0).limit(limit)
          .map(id -> new Work(id, queued.contains(id) ? JobStatus.QUEUED : JobStatus.RUNNING, "m", "alice",
              Priority.INTERACTIVE, java.time.Instant.EPOCH)).toList();
      CompletableFuture<Void> held = gate.get();
      return held == null ? CompletableFuture.completedFuture(page) : held.thenApply(v -> page);
    }

    @Override
    public CompletionStage<JobPage> list(JobQuery query) {
      throw new UnsupportedOperationException("the waker does not list");
    }

    @Override
    public CompletionStage<Optional<JobRow>> find(String jobId) {
      throw new UnsupportedOperationException("the waker does not look up jobs");
    }

    @Override
    public CompletionStage<Map<JobStatus, Long>> countByStatus() {
      throw new UnsupportedOperationException("the waker does not count");
    }
  }

  /** A journal at a fixed position and projections at a position the test moves; {@link #gate} holds the journal's. */
  static final class Progress implements IndexProgress {
    final Map<String, Long> journal;
    volatile Map<String, Long> projected = Map.of();
    final AtomicReference<CompletableFuture<Void>> gate = new AtomicReference<>();

    Progress(Map<String, Long> journal) {
      this.journal = journal;
    }

    @Override
    public CompletionStage<Map<String, Long>> journal() {
      CompletableFuture<Void> held = gate.get();
      return held == null ? CompletableFuture.completedFuture(journal) : held.thenApply(v -> journal);
    }

    @Override
    public CompletionStage<Map<String, Long>> projected() {
      return CompletableFuture.completedFuture(projected);
    }
  }

  private static ReadSideSettings.Waker settings(Duration catchUpTimeout, Duration interval) {
    return new ReadSideSettings.Waker(1000, 2, catchUpTimeout, interval, Duration.ofSeconds(1));
  }

  private ActorRef<JobWaker.Command> start(Index index, Progress progress, TestProbe<String> woken,
      ReadSideSettings.Waker settings) {
    return testKit.spawn(JobWaker.create(index, progress, answering(woken), enlisting(woken), settings, false));
  }

  /** Jobs that answer at once, each wake reported to {@code woken}. */
  private static Function<String, CompletionStage<Done>> answering(TestProbe<String> woken) {
    return jobId -> {
      woken.ref().tell(jobId);
      return CompletableFuture.completedFuture(Done.getInstance());
    };
  }

  /** Endpoints that answer at once, each job enlisted reported to {@code enlisted} as "enlisted {jobId} at {endpoint}".
   * */
  private static java.util.function.BiFunction<String, List<EndpointCommand.QueuedJob>,
      CompletionStage<Done>> enlisting(TestProbe<String> enlisted) {
    return (endpoint, jobs) -> {
      jobs.forEach(job -> enlisted.ref().tell("enlisted " + job.jobId() + " at " + endpoint));
      return CompletableFuture.completedFuture(Done.getInstance());
    };
  }

  @Test
  void enlistsQueuedJobsWithTheirEndpointUnthrottledInsteadOfWakingThem() {
    Index index = new Index();
    List<String> queued = java.util.stream.IntStream.range(0, 30).mapToObj(i -> String.format("job-q%02d", i)).toList();
    index.withWork.addAll(queued);
    index.queued.addAll(queued);
    index.withWork.addAll(List.of("job-r1", "job-r2"));
    TestProbe<String> woken = testKit.createTestProbe();
    // One wake a second: the 30 queued jobs would take half a minute if enlisting were throttled like waking.
    var settings = new ReadSideSettings.Waker(1, 100, Duration.ofMinutes(1), Duration.ZERO, Duration.ofSeconds(1));

    var waker = start(index, new Progress(Map.of()), woken, settings);

    List<String> seen = woken.receiveSeveralMessages(32, Duration.ofSeconds(10));
    assertThat(seen).containsExactlyInAnyOrderElementsOf(java.util.stream.Stream.concat(
        queued.stream().map(id -> "enlisted " + id + " at m"), java.util.stream.Stream.of("job-r1",
            "job-r2")).toList());
    // The queued jobs, unthrottled, all came before the second running job, which waited its turn.
    assertThat(seen.indexOf("job-r2")).isEqualTo(31);
    testKit.stop(waker);
  }

  @Test
  void aLargePageOfQueuedJobsIsEnlistedInMessagesOfAtMost500() {
    Index index = new Index();
    List<String> queued = java.util.stream.IntStream.range(0, 1_200).mapToObj(i -> String.format("job-q%04d", i))
        .toList();
    index.withWork.addAll(queued);
    index.queued.addAll(queued);
    TestProbe<List<String>> messages = testKit.createTestProbe();
    java.util.function.BiFunction<String, List<EndpointCommand.QueuedJob>, CompletionStage<Done>> enlist =
        (endpoint, jobs) -> {
          messages.ref().tell(jobs.stream().map(EndpointCommand.QueuedJob::jobId).toList());
          return CompletableFuture.completedFuture(Done.getInstance());
        };
    // One page holds every job: the chunking, not the page, bounds a message (its endpoint may be on another node).
    var settings = new ReadSideSettings.Waker(1, 5_000, Duration.ofMinutes(1), Duration.ZERO, Duration.ofSeconds(1));

    var waker = testKit.spawn(JobWaker.create(index, new Progress(Map.of()), answering(testKit.createTestProbe()),
        enlist, settings, false));

    List<List<String>> sent = messages.receiveSeveralMessages(3, Duration.ofSeconds(10));
    assertThat(sent).allSatisfy(m -> assertThat(m).hasSizeLessThanOrEqualTo(JobWaker.ENLIST_CHUNK));
    assertThat(sent.stream().flatMap(List::stream).toList()).containsExactlyInAnyOrderElementsOf(queued);
    messages.expectNoMessage(Duration.ofMillis(200));
    testKit.stop(waker);
  }

  @Test
  void aTriggerBeforeTheRunHasReadTheJournalIsCoveredByThatRun() {
    Index index = new Index();
    index.withWork.add("job-a");
    Progress progress = new Progress(Map.of());
    CompletableFuture<Void> gate = new CompletableFuture<>();
    progress.gate.set(gate);
    TestProbe<String> woken = testKit.createTestProbe();

    var waker = start(index, progress, woken, settings(Duration.ofMinutes(1), Duration.ZERO));
    waker.tell(new JobWaker.Run("endpoint m started with an empty queue"));
    woken.expectNoMessage(Duration.ofMillis(300));
    progress.gate.set(null);
    gate.complete(null);

    woken.expectMessage("job-a");
    woken.expectNoMessage(Duration.ofSeconds(1));
    testKit.stop(waker);
  }

  @Test
  void aJobThatDoesNotAnswerItsWakeIsWokenAgain() {
    Index index = new Index();
    index.withWork.addAll(List.of("job-a", "job-b"));
    TestProbe<String> woken = testKit.createTestProbe();
    AtomicInteger asked = new AtomicInteger();
    // job-a's first wake is lost, as one sent to a node that is gone would be.
    Function<String, CompletionStage<Done>> wake = jobId -> {
      woken.ref().tell(jobId);
      return jobId.equals("job-a") && asked.getAndIncrement() == 0
          ? CompletableFuture.failedFuture(new java.util.concurrent.TimeoutException("no answer"))
          : CompletableFuture.completedFuture(Done.getInstance());
    };

    var waker = testKit.spawn(JobWaker.create(index, new Progress(Map.of()), wake, enlisting(woken),
        settings(Duration.ofMinutes(1), Duration.ZERO), false));

    List<String> wakes = List.of(woken.receiveMessage(), woken.receiveMessage(),
        woken.receiveMessage(Duration.ofSeconds(5)));
    assertThat(wakes).containsExactlyInAnyOrder("job-a", "job-a", "job-b");
    woken.expectNoMessage(Duration.ofMillis(500));
    testKit.stop(waker);
  }

  @Test
  void wakesEveryJobWithWorkOnlyOnceTheIndexHasCaughtUpWithTheJournal() {
    Index index = new Index();
    index.withWork.addAll(List.of("job-b", "job-a"));
    Progress progress = new Progress(Map.of("job-0", 10L, "job-1", 7L));
    progress.projected = Map.of("job-0", 10L, "job-1", 5L);
    TestProbe<String> woken = testKit.createTestProbe();

    var waker = start(index, progress, woken, settings(Duration.ofMinutes(1), Duration.ZERO));
    woken.expectNoMessage(Duration.ofSeconds(1));
    // The projection folds the last events: one more job turns up in the index, then the offsets move.
    index.withWork.add("job-c");
    progress.projected = Map.of("job-0", 10L, "job-1", 7L);

    assertThat(List.of(woken.receiveMessage(), woken.receiveMessage(),
        woken.receiveMessage())).containsExactly("job-a", "job-b", "job-c");
    woken.expectNoMessage(Duration.ofMillis(300));
    testKit.stop(waker);
  }

  @Test
  void wakesFromTheIndexAsItIsWhenTheProjectionsDoNotCatchUpInTime() {
    Index index = new Index();
    index.withWork.add("job-a");
    Progress progress = new Progress(Map.of("job-2", 10L));
    TestProbe<String> woken = testKit.createTestProbe();

    var waker = start(index, progress, woken, settings(Duration.ofMillis(800), Duration.ZERO));

    woken.expectMessage(Duration.ofSeconds(5), "job-a");
    testKit.stop(waker);
  }

  @Test
  void aTriggerDuringARunMakesExactlyOneMoreRun() {
    Index index = new Index();
    index.withWork.add("job-a");
    CompletableFuture<Void> gate = new CompletableFuture<>();
    index.gate.set(gate);
    TestProbe<String> woken = testKit.createTestProbe();

    var waker = start(index, new Progress(Map.of()), woken, settings(Duration.ofMinutes(1), Duration.ZERO));
    woken.expectNoMessage(Duration.ofMillis(300)); // the run is past the journal's position, held at the index
    waker.tell(new JobWaker.Run("member removed"));
    waker.tell(new JobWaker.Run("member removed"));
    woken.expectNoMessage(Duration.ofMillis(300));
    index.gate.set(null);
    gate.complete(null);

    woken.expectMessage("job-a");
    woken.expectMessage("job-a");
    woken.expectNoMessage(Duration.ofSeconds(1));
    testKit.stop(waker);
  }

  @Test
  void wakesTheJobsWithWorkOfARealIndexPageByPage() throws Exception {
    try (TestDatabase db = TestDatabase.h2(java.nio.file.Files.createTempDirectory("warmgate-waker"))) {
      IndexRows rows = new IndexRows(db.pool);
      java.time.Instant t = java.time.Instant.parse("2026-11-23T10:00:00Z");
      rows.job("job-q1", "alice", "gen3d", t, JobStatus.QUEUED);
      rows.job("job-q2", "alice", "gen3d", t, JobStatus.WAITING_FOR_INPUTS);
      rows.job("job-q3", "alice", "gen3d", t, JobStatus.RETRY_WAIT);
      rows.job("job-s1", "alice", "gen3d", t, JobStatus.SUCCEEDED);
      var blocking = testKit.system().executionContext();
      TestProbe<String> woken = testKit.createTestProbe();

      var waker = testKit.spawn(JobWaker.create(new JdbcJobIndex(db.pool, blocking), new JdbcIndexProgress(db.pool,
          blocking),
          answering(woken), enlisting(woken), settings(Duration.ofMinutes(1), Duration.ZERO), false));

      assertThat(woken.receiveSeveralMessages(3)).containsExactlyInAnyOrder("enlisted job-q1 at gen3d", "job-q2",
          "job-q3");
      woken.expectNoMessage(Duration.ofMillis(500));
      testKit.stop(waker);
    }
  }

  @Test
  void runsAgainEveryInterval() {
    Index index = new Index();
    index.withWork.add("job-a");
    TestProbe<String> woken = testKit.createTestProbe();

    var waker = start(index, new Progress(Map.of()), woken, settings(Duration.ofMinutes(1), Duration.ofMillis(500)));

    woken.expectMessage("job-a");
    woken.expectMessage("job-a");
    woken.expectMessage("job-a");
    testKit.stop(waker);
  }
}
