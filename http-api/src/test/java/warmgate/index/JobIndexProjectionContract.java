package warmgate.index;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.jdbc.javadsl.JdbcHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import warmgate.CborSerializable;
import warmgate.e2e.Await;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.job.ObjectRef;
import warmgate.request.JobSummary;
import warmgate.request.Request;
import warmgate.request.RequestEntity;

/**
 * What the job index projection does on a real database, journal and projection (no cluster); run on H2 and
 * on PostgreSQL by its subclasses.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class JobIndexProjectionContract {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final AtomicInteger ids = new AtomicInteger();
  /** Nanoseconds, which the index keeps as microseconds. */
  static final Instant T0 = Instant.parse("2026-11-23T10:15:30.123456789Z");

  private TestDatabase db;
  private ActorTestKit testKit;
  private JdbcJobIndex index;

  abstract TestDatabase database(Path dir);

  @BeforeAll
  void start() throws Exception {
    db = database(Files.createTempDirectory("warmgate-index"));
    testKit = ActorTestKit.create(db.config);
    index = new JdbcJobIndex(db.pool, testKit.system().dispatchers().lookup(DispatcherSelector.blocking()));
  }

  @AfterAll
  void stop() {
    if (testKit != null) {
      testKit.shutdownTestKit();
    }
    if (db != null) {
      db.close();
    }
  }

  static JobSpec spec(String owner, String callbackUrl) {
    ObjectRef image = new ObjectRef("gen3d", "users/" + owner + "/input/cat_image.png");
    return new JobSpec("gen3d", owner, Map.of("image", image), new ObjectRef("gen3d", "users/" + owner
        + "/output/cat.ply"), null,
        callbackUrl, image.toString(), false);
  }

  static String newJobId() {
    return "job-" + ids.incrementAndGet() + "-" + System.nanoTime();
  }

  private void append(String jobId, List<?> events) {
    TestProbe<Done> done = testKit.createTestProbe();
    ActorRef<EventLog.Append> log = testKit.spawn(EventLog.of(jobId));
    log.tell(new EventLog.Append(events, done.ref()));
    done.expectMessage(WAIT, Done.getInstance());
    testKit.stop(log);
  }

  /**
   * Groups of three events: a job's lifecycle spans several groups, so rows are both folded within a group and
   * read back from the table by the next one.
   */
  private static final ReadSideSettings.Grouping SMALL_GROUPS = new ReadSideSettings.Grouping(3, Duration.ofMillis(50));

  private List<ActorRef<ProjectionBehavior.Command>> runProjections(Map<String, AtomicInteger> handled) {
    return runProjections(handled, SMALL_GROUPS);
  }

  /** Every tag's projection, each event it handles counted by job id. */
  private List<ActorRef<ProjectionBehavior.Command>> runProjections(Map<String, AtomicInteger> handled,
      ReadSideSettings.Grouping grouping) {
    List<ActorRef<ProjectionBehavior.Command>> running = new ArrayList<>();
    for (String tag : RequestEntity.TAGS) {
      running.add(testKit.spawn(ProjectionBehavior.create(JobIndexProjection.projection(testKit.system(), db.pool, tag,
          grouping,
          () -> new JdbcHandler<List<EventEnvelope<Request.Event>>, PooledSession>() {
            private final JobIndexProjection.Handler real = new JobIndexProjection.Handler();

            @Override
            public void process(PooledSession session, List<EventEnvelope<Request.Event>> envelopes) throws Exception {
              for (EventEnvelope<Request.Event> envelope : envelopes) {
                handled.computeIfAbsent(envelope.persistenceId(), id -> new AtomicInteger()).incrementAndGet();
              }
              real.process(session, envelopes);
            }
          }))));
    }
    return running;
  }

  private void stopProjections(List<ActorRef<ProjectionBehavior.Command>> running) {
    TestProbe<Object> probe = testKit.createTestProbe();
    for (ActorRef<ProjectionBehavior.Command> projection : running) {
      projection.tell(ProjectionBehavior.stopMessage());
      probe.expectTerminated(projection, WAIT);
    }
  }

  private Optional<JobRow> awaitRow(String jobId, JobStatus status) {
    TestProbe<Object> probe = testKit.createTestProbe();
    return probe.awaitAssert(WAIT, () -> {
      Optional<JobRow> row = index.find(jobId).toCompletableFuture().join();
      assertThat(row).as("row of %s", jobId).hasValueSatisfying(r -> assertThat(r.status()).isEqualTo(status));
      return row;
    });
  }

  private static String persistenceId(String jobId) {
    return RequestEntity.ENTITY_KEY.name() + "|" + jobId;
  }

  /** A job that waits for its mask, runs, fails once, is retried and succeeds, as the entity writes it. */
  static List<Request.Event> lifecycle(String jobId, JobSpec spec) {
    return List.of(
        new Request.JobSubmitted(jobId, spec, T0.plusSeconds(600), T0),
        new Request.InputsMissing(List.of("mask"), T0.plusSeconds(1)),
        new Request.JobQueued(T0.plusSeconds(5)),
        new Request.AttemptStarted(1, "lease-1", T0.plusSeconds(6)),
        new Request.AttemptFailed(1, "HTTP 503 from the model", T0.plusSeconds(9), T0.plusSeconds(7)),
        new Request.JobQueued(T0.plusSeconds(9)),
        new Request.AttemptStarted(2, "lease-2", T0.plusSeconds(10)),
        new Request.JobSucceeded(2, "5d41402abc4b2a76b9719d911017c592", T0.plusSeconds(12)));
  }

  @Test
  void foldsAFullJobLifecycleIntoTheRowTheEntityWouldShow() throws Exception {
    String jobId = newJobId();
    JobSpec spec = spec("alice", null);
    List<Request.Event> events = lifecycle(jobId, spec);
    append(jobId, events);
    var running = runProjections(new ConcurrentHashMap<>());
    try {
      JobRow row = awaitRow(jobId, JobStatus.SUCCEEDED).orElseThrow();

      assertThat(row).isEqualTo(new JobRow(jobId, JobStatus.SUCCEEDED, "gen3d", "alice", 2,
          T0.truncatedTo(ChronoUnit.MICROS),
          T0.plusSeconds(12).truncatedTo(ChronoUnit.MICROS), "s3://gen3d/users/alice/output/cat.ply", null));
      JobSummary fold = JobSummary.fold(events).orElseThrow();
      assertThat(row).as("the row is the fold the entity is checked against").isEqualTo(new JobRow(fold.jobId(),
          fold.status(),
          fold.endpoint(), fold.owner(), fold.attempts(), fold.createdAt().truncatedTo(ChronoUnit.MICROS),
          fold.updatedAt().truncatedTo(ChronoUnit.MICROS), fold.output(), fold.error()));
      assertThat(lastSeqNr(jobId)).isEqualTo(events.size());
      assertThat(workIds()).doesNotContain(jobId);
    } finally {
      stopProjections(running);
    }
  }

  @Test
  void foldsTheEventsOfManyJobsArrivingInOneGroupAsIfOneAtATime() throws Exception {
    List<String> jobIds = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      String jobId = newJobId();
      jobIds.add(jobId);
      append(jobId, lifecycle(jobId, spec(i % 2 == 0 ? "alice" : "bob", null)));
    }
    Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
    var running = runProjections(handled, new ReadSideSettings.Grouping(500, Duration.ofMillis(500)));
    try {
      for (String jobId : jobIds) {
        JobRow row = awaitRow(jobId, JobStatus.SUCCEEDED).orElseThrow();
        JobSummary fold = JobSummary.fold(lifecycle(jobId, spec(row.owner(), null))).orElseThrow();
        assertThat(row.attempts()).isEqualTo(fold.attempts());
        assertThat(row.updatedAt()).isEqualTo(fold.updatedAt().truncatedTo(ChronoUnit.MICROS));
        assertThat(lastSeqNr(jobId)).isEqualTo(8);
        assertThat(handled.get(persistenceId(jobId))).as("events of %s handled", jobId).hasValue(8);
      }
    } finally {
      stopProjections(running);
    }
  }

  @Test
  void aFailedJobHasWorkUntilItsReportIsWrittenAndItsCallbackDelivered() {
    String jobId = newJobId();
    JobSpec spec = spec("bob", "https://hooks.example.com/warmgate");
    var running = runProjections(new ConcurrentHashMap<>());
    try {
      append(jobId, List.of(
          new Request.JobSubmitted(jobId, spec, T0.plusSeconds(600), T0),
          new Request.JobQueued(T0.plusSeconds(1)),
          new Request.AttemptStarted(1, "lease-1", T0.plusSeconds(2)),
          new Request.JobFailed("attempt 1 failed permanently: HTTP 400 from the model", T0.plusSeconds(3))));
      JobRow failed = awaitRow(jobId, JobStatus.FAILED).orElseThrow();
      assertThat(failed.error()).isEqualTo("attempt 1 failed permanently: HTTP 400 from the model");
      assertThat(workIds()).contains(jobId);

      append(jobId, List.of(
          new Request.ErrorReported("9e107d9d372bb6826bd81d3542a419d6", T0.plusSeconds(4)),
          new Request.CallbackDelivered(JobStatus.FAILED, 1, 204, T0.plusSeconds(5))));
      TestProbe<Object> probe = testKit.createTestProbe();
      probe.awaitAssert(WAIT, () -> {
        assertThat(lastSeqNr(jobId)).isEqualTo(6);
        return null;
      });
      assertThat(workIds()).doesNotContain(jobId);
      assertThat(index.find(jobId).toCompletableFuture().join()).as("duties done change no field a list shows")
          .hasValue(failed);
    } finally {
      stopProjections(running);
    }
  }

  @Test
  void aFailedJobWhoseReportIsAbandonedHasNoWorkLeftSoTheWakerLeavesItAlone() {
    String jobId = newJobId();
    JobSpec spec = spec("bob", null);
    var running = runProjections(new ConcurrentHashMap<>());
    try {
      append(jobId, List.of(
          new Request.JobSubmitted(jobId, spec, T0.plusSeconds(600), T0),
          new Request.JobFailed("input image can never exist: the key has a '..' segment (rule: key-no-dot-segments)",
              T0.plusSeconds(1))));
      JobRow failed = awaitRow(jobId, JobStatus.FAILED).orElseThrow();
      assertThat(workIds()).contains(jobId);

      append(jobId, List.of(new Request.ErrorReportAbandoned(
          "the error report can never be written: S3 answered 404 NoSuchBucket",
          T0.plusSeconds(2))));
      TestProbe<Object> probe = testKit.createTestProbe();
      probe.awaitAssert(WAIT, () -> {
        assertThat(lastSeqNr(jobId)).isEqualTo(3);
        return null;
      });
      assertThat(workIds()).doesNotContain(jobId);
      assertThat(index.find(jobId).toCompletableFuture().join()).as("a duty given up changes no field a list shows")
          .hasValue(failed);
    } finally {
      stopProjections(running);
    }
  }

  @Test
  void aRestartedProjectionResumesFromItsStoredOffsetAndAppliesNoEventTwice() throws Exception {
    String first = newJobId();
    String second = newJobId();
    append(first, lifecycle(first, spec("alice", null)));
    Map<String, AtomicInteger> handledBefore = new ConcurrentHashMap<>();
    var running = runProjections(handledBefore);
    awaitRow(first, JobStatus.SUCCEEDED);
    stopProjections(running);
    assertThat(handledBefore.get(persistenceId(first))).hasValue(8);
    Map<String, Long> offsets = storedOffsets();
    assertThat(offsets).as("offsets stored in the index's own database").containsKey(RequestEntity.tagFor(first));

    append(second, lifecycle(second, spec("bob", null)));
    Map<String, AtomicInteger> handledAfter = new ConcurrentHashMap<>();
    running = runProjections(handledAfter);
    try {
      awaitRow(second, JobStatus.SUCCEEDED);
      assertThat(handledAfter.get(persistenceId(first))).as("events of %s handled again", first).isNull();
      assertThat(handledAfter.get(persistenceId(second))).hasValue(8);
      assertThat(lastSeqNr(first)).isEqualTo(8);
      assertThat(storedOffsets().get(RequestEntity.tagFor(second)))
          .isGreaterThan(offsets.getOrDefault(RequestEntity.tagFor(second), 0L));
    } finally {
      stopProjections(running);
    }
  }

  @Test
  void theJournalsPositionIsEachTagsLastEventAndTheFoldedIndexCatchesUpWithIt() throws Exception {
    List<String> jobs = new ArrayList<>();
    Set<String> tagged = new HashSet<>();
    while (tagged.size() < RequestEntity.TAGS.size()) { // a job of every tag
      String jobId = newJobId();
      if (tagged.add(RequestEntity.tagFor(jobId))) {
        jobs.add(jobId);
        append(jobId, lifecycle(jobId, spec("alice", null)));
      }
    }
    IndexProgress progress = new JdbcIndexProgress(db.pool, Runnable::run);
    Map<String, Long> journal = progress.journal().toCompletableFuture().join();
    assertThat(journal).isEqualTo(lastEventPerTag()).containsOnlyKeys(RequestEntity.TAGS);

    var running = runProjections(new ConcurrentHashMap<>());
    try {
      Await.until(WAIT, "the projections' offsets to reach the journal's position " + journal,
          () -> IndexProgress.caughtUp(journal, progress.projected().toCompletableFuture().join()));
      for (String jobId : jobs) {
        assertThat(index.find(jobId).toCompletableFuture().join()).get().extracting(JobRow::status)
            .isEqualTo(JobStatus.SUCCEEDED);
      }
    } finally {
      stopProjections(running);
    }
  }

  /** The last event of each job tag, as a GROUP BY over all their rows reads it. */
  private Map<String, Long> lastEventPerTag() throws Exception {
    Map<String, Long> last = new HashMap<>();
    String sql = "SELECT \"tag\", MAX(\"event_id\") FROM \"event_tag\" GROUP BY \"tag\"";
    try (Connection c = db.pool.getConnection(); PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        if (RequestEntity.TAGS.contains(rs.getString(1))) {
          last.put(rs.getString(1), rs.getLong(2));
        }
      }
    }
    return last;
  }

  /** An event of no job type, as a future version might write; the projection must not stop on it. */
  record Foreign(String note) implements CborSerializable {}

  @Test
  void eventsItDoesNotUnderstandAreSkippedAndTheProjectionGoesOn() {
    String orphan = newJobId();
    String stranger = newJobId();
    String after = newJobId();
    // Same tag for all three, so the job behind them is only seen if the projection got past them.
    while (!RequestEntity.tagFor(stranger).equals(RequestEntity.tagFor(orphan))) {
      stranger = newJobId();
    }
    while (!RequestEntity.tagFor(after).equals(RequestEntity.tagFor(orphan))) {
      after = newJobId();
    }
    append(orphan, List.of(new Request.AttemptStarted(1, "lease-1", T0)));
    append(stranger, List.of(new Foreign("from a newer version")));
    append(after, lifecycle(after, spec("alice", null)));
    var running = runProjections(new ConcurrentHashMap<>());
    try {
      awaitRow(after, JobStatus.SUCCEEDED);
      assertThat(index.find(orphan).toCompletableFuture().join()).isEmpty();
      assertThat(index.find(stranger).toCompletableFuture().join()).isEmpty();
    } finally {
      stopProjections(running);
    }
  }

  private List<String> workIds() {
    return index.withWork(null, 1000).toCompletableFuture().join().stream().map(JobIndex.Work::jobId).toList();
  }

  private long lastSeqNr(String jobId) throws Exception {
    try (Connection c = db.pool.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT last_seq_nr FROM job_index WHERE job_id = ?")) {
      ps.setString(1, jobId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : -1;
      }
    }
  }

  private Map<String, Long> storedOffsets() {
    return new JdbcIndexProgress(db.pool, Runnable::run).projected().toCompletableFuture().join();
  }
}
