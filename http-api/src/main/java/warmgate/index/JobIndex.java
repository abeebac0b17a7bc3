package warmgate.index;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import warmgate.job.JobStatus;

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

  /** A job with work left, and where it stands: a queued job is enlisted in its endpoint's queue, not woken. */
  record Work(String jobId, JobStatus status, String endpoint) {}
}
