package warmgate.index;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import warmgate.job.JobStatus;
import warmgate.job.Priority;

/** What the index answers, on a real database (rows written by the projection's own fold); H2 and PostgreSQL
 * subclasses. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class JobIndexQueryContract {
  private static final Instant T = Instant.parse("2026-11-23T10:00:00Z");

  private TestDatabase db;
  private JdbcJobIndex index;
  private IndexRows rows;
  private java.util.concurrent.ExecutorService executor;

  abstract TestDatabase database(Path dir);

  @BeforeAll
  void start() throws Exception {
    db = database(Files.createTempDirectory("warmgate-index"));
    executor = Executors.newFixedThreadPool(2);
    index = new JdbcJobIndex(db.pool, executor);
    rows = new IndexRows(db.pool);
  }

  @AfterAll
  void stop() {
    executor.shutdownNow();
    db.close();
  }

  /** An owner no other test uses, so each test sees only its own jobs. */
  private static String owner() {
    return "o" + UUID.randomUUID().toString().substring(0, 8);
  }

  private JobPage list(JobQuery query) {
    return index.list(query).toCompletableFuture().join();
  }

  private static List<String> ids(JobPage page) {
    return page.jobs().stream().map(JobRow::jobId).toList();
  }

  @Test
  void listsNewestFirstAndFiltersByStatusEndpointOwnerAndCreationTime() throws Exception {
    String owner = owner();
    rows.job(owner + "-a", owner, "gen3d", T, JobStatus.SUCCEEDED);
    rows.job(owner + "-b", owner, "gen3d", T.plusSeconds(10), JobStatus.QUEUED);
    rows.job(owner + "-c", owner, "other", T.plusSeconds(20), JobStatus.FAILED);
    rows.job(owner + "-d", owner, "gen3d", T.plusSeconds(30), JobStatus.RUNNING);
    rows.job(owner() + "-e", "someone-else", "gen3d", T.plusSeconds(40), JobStatus.QUEUED);
    JobQuery mine = JobQuery.all().withOwner(owner);

    assertThat(ids(list(mine))).containsExactly(owner + "-d", owner + "-c", owner + "-b", owner + "-a");
    assertThat(ids(list(mine.withStatuses(Set.of(JobStatus.QUEUED, JobStatus.FAILED))))).containsExactly(owner + "-c",
        owner + "-b");
    assertThat(ids(list(new JobQuery(Set.of(), "gen3d", owner, null, null, 50, null)))).containsExactly(owner + "-d",
        owner + "-b", owner + "-a");
    assertThat(ids(list(new JobQuery(Set.of(), null, owner, T.plusSeconds(10), T.plusSeconds(30), 50, null))))
        .as("from inclusive, to exclusive").containsExactly(owner + "-c", owner + "-b");
    JobRow failed = list(mine.withStatuses(Set.of(JobStatus.FAILED))).jobs().get(0);
    assertThat(failed).isEqualTo(new JobRow(owner + "-c", JobStatus.FAILED, "other", owner, 0, T.plusSeconds(20),
        T.plusSeconds(21),
        "s3://gen3d/users/" + owner + "/output/" + owner + "-c.ply", "the inputs could not be read"));
  }

  @Test
  void pagesWithACursorThatJobsCreatedMeanwhileDoNotDisturb() throws Exception {
    String owner = owner();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      // Two jobs per instant: the job id breaks the tie, so no job is skipped or repeated at a page boundary.
      String jobId = owner + "-" + i;
      rows.job(jobId, owner, "gen3d", T.plusSeconds(i / 2), JobStatus.QUEUED);
      expected.add(0, jobId);
    }
    JobQuery query = JobQuery.all().withOwner(owner).withLimit(3);

    JobPage first = list(query);
    rows.job(owner + "-newer", owner, "gen3d", T.plusSeconds(100), JobStatus.QUEUED);
    JobPage second = list(query.after(JobQuery.Cursor.decode(first.nextCursor())));
    JobPage third = list(query.after(JobQuery.Cursor.decode(second.nextCursor())));

    List<String> seen = new ArrayList<>(ids(first));
    seen.addAll(ids(second));
    seen.addAll(ids(third));
    assertThat(ids(first)).hasSize(3);
    assertThat(ids(second)).hasSize(3);
    assertThat(seen).containsExactlyElementsOf(expected);
    assertThat(third.nextCursor()).isNull();
    assertThat(ids(list(query))).startsWith(owner + "-newer");
  }

  @Test
  void countsJobsByStatusWithEveryStatusPresent() throws Exception {
    Map<JobStatus, Long> before = index.countByStatus().toCompletableFuture().join();
    String owner = owner();
    rows.job(owner + "-1", owner, "gen3d", T, JobStatus.AWAITING_REVIEW);
    rows.job(owner + "-2", owner, "gen3d", T, JobStatus.AWAITING_REVIEW);
    rows.job(owner + "-3", owner, "gen3d", T, JobStatus.CANCELLED);

    Map<JobStatus, Long> after = index.countByStatus().toCompletableFuture().join();

    assertThat(after).containsOnlyKeys(JobStatus.values());
    assertThat(after.get(JobStatus.AWAITING_REVIEW) - before.get(JobStatus.AWAITING_REVIEW)).isEqualTo(2);
    assertThat(after.get(JobStatus.CANCELLED) - before.get(JobStatus.CANCELLED)).isEqualTo(1);
    assertThat(after.get(JobStatus.SUCCEEDED)).isEqualTo(before.get(JobStatus.SUCCEEDED));
  }

  @Test
  void listsTheJobsWithWorkLeftInIdOrderPageByPage() throws Exception {
    String owner = owner();
    rows.job(owner + "-waiting", owner, "gen3d", T, JobStatus.WAITING_FOR_INPUTS);
    rows.job(owner + "-queued", owner, "gen3d", T, JobStatus.QUEUED);
    rows.job(owner + "-running", owner, "gen3d", T, JobStatus.RUNNING);
    rows.job(owner + "-retrying", owner, "gen3d", T, JobStatus.RETRY_WAIT);
    rows.job(owner + "-failed", owner, "gen3d", T, JobStatus.FAILED); // its error report is still owed
    rows.job(owner + "-succeeded", owner, "gen3d", T, JobStatus.SUCCEEDED);
    rows.job(owner + "-review", owner, "gen3d", T, JobStatus.AWAITING_REVIEW);
    rows.job(owner + "-cancelled", owner, "gen3d", T, JobStatus.CANCELLED);

    List<String> all = new ArrayList<>();
    String after = null;
    for (List<JobIndex.Work> page = index.withWork(null, 2).toCompletableFuture().join(); !page.isEmpty();
        page = index.withWork(after, 2).toCompletableFuture().join()) {
      assertThat(page.size()).isLessThanOrEqualTo(2);
      page.forEach(work -> all.add(work.jobId()));
      after = page.get(page.size() - 1).jobId();
      assertThat(page).filteredOn(work -> work.jobId().equals(owner + "-queued"))
          .allSatisfy(work -> assertThat(work).isEqualTo(new JobIndex.Work(owner + "-queued", JobStatus.QUEUED,
              "gen3d", owner, Priority.INTERACTIVE, T.plusSeconds(1))));
    }

    assertThat(all).doesNotHaveDuplicates();
    assertThat(all.stream().filter(id -> id.startsWith(owner))).containsExactlyInAnyOrder(
        owner + "-waiting", owner + "-queued", owner + "-running", owner + "-retrying", owner + "-failed");
  }
}
