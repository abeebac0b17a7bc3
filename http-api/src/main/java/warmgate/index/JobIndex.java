package warmgate.index;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import warmgate.job.JobStatus;
import warmgate.job.Priority;

/**
 * The read side's table of jobs, kept by {@link JobIndexProjection}. Eventually consistent: a change shows
 * here shortly after the job's event is written, never before. Nothing here asks an entity.
 */
public interface JobIndex {

  /** One page of the jobs {@code query} selects, newest first (createdAt desc, jobId desc). */
  CompletionStage<JobPage> list(JobQuery query);

  CompletionStage<Optional<JobRow>> find(String jobId);

  /** How many jobs have each status; every status is present, with 0 when no job has it. */
  CompletionStage<Map<JobStatus, Long>> countByStatus();

  /**
   * Jobs that still act on their own (an unfinished stage, an error report or a callback owed), in id order,
   * after {@code afterJobId} (null: from the first).
   */
  CompletionStage<List<Work>> withWork(String afterJobId, int limit);

  /**
   * A job with work left, and where it stands: a queued job is enlisted in its endpoint's queue, not woken, with
   * its owner, priority and when it last changed (for a queued job, when it was queued) to find its place there.
   */
  record Work(String jobId, JobStatus status, String endpoint, String owner, Priority priority, Instant since) {}
}
