package warmgate.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import warmgate.job.JobSpec;
import warmgate.job.ObjectRef;
import warmgate.request.Request;

// The comparison of a job's events with its job_index row, on hand-made events; no database.
class JobCheckTest {
  private static final Instant SUBMITTED = Instant.parse("2026-03-01T10:00:00.123456789Z");
  private static final Instant QUEUED = Instant.parse("2026-03-01T10:00:01.000000400Z");

  private static List<StoredEvent> events() {
    var spec = new JobSpec("gen3d", "alice", Map.of("image", new ObjectRef("b", "in.png")), new ObjectRef("b",
        "out.ply"), null, null, "http", false);
    return List.of(
        new StoredEvent("Request", "j1", 1, 10, SUBMITTED, new Request.JobSubmitted("j1", spec,
            SUBMITTED.plusSeconds(600), SUBMITTED)),
        new StoredEvent("Request", "j1", 2, 11, QUEUED, new Request.JobQueued(QUEUED)));
  }

  @Test
  void rowThatSaysWhatTheEventsSayMatchesWhetherTheDatabaseRoundedOrTruncatedNanoseconds() {
    var rounded = new IndexedJobs.Row("j1", "QUEUED", "gen3d", "alice", 0, Instant.parse("2026-03-01T10:00:00.123457Z"),
        Instant.parse("2026-03-01T10:00:01Z"), 2);
    var truncated = new IndexedJobs.Row("j1", "QUEUED", "gen3d", "alice", 0,
        Instant.parse("2026-03-01T10:00:00.123456Z"),
        Instant.parse("2026-03-01T10:00:01Z"), 2);

    assertThat(JobCheck.differences(events(), Optional.of(rounded))).isEmpty();
    assertThat(JobCheck.differences(events(), Optional.of(truncated))).isEmpty();
  }

  @Test
  void everyColumnThatDiffersIsNamedWithBothValues() {
    var row = new IndexedJobs.Row("j1", "RUNNING", "other", "bob", 1, Instant.parse("2026-03-01T10:00:00.124Z"),
        Instant.parse("2026-03-01T10:00:02Z"), 1);

    assertThat(JobCheck.differences(events(), Optional.of(row))).containsExactly(
        "status: journal QUEUED, job_index RUNNING",
        "endpoint: journal gen3d, job_index other",
        "owner: journal alice, job_index bob",
        "attempts: journal 0, job_index 1",
        "created_at: journal 2026-03-01T10:00:00.123456789Z, job_index 2026-03-01T10:00:00.124Z",
        "updated_at: journal 2026-03-01T10:00:01.000000400Z, job_index 2026-03-01T10:00:02Z",
        "last_seq_nr: journal 2, job_index 1");
  }

  @Test
  void aJobOnOnlyOneSideIsADifference() {
    assertThat(JobCheck.differences(events(), Optional.empty()))
        .containsExactly("missing from job_index; the journal has 2 event(s) and says QUEUED");
    assertThat(JobCheck.differences(List.of(), Optional.of(new IndexedJobs.Row("j1", "QUEUED", "gen3d", null, 0,
        QUEUED, QUEUED, 2))))
        .containsExactly("in job_index, but the journal has no event of it");
  }
}
