package warmgate.request;

import java.time.Duration;
import warmgate.job.JobStatus;

/**
 * What {@link RequestEntity} entities report about jobs, on the node that hosts them. http-api exposes it in Prometheus
 * format; {@link #NONE} is for tests and for nodes that do not expose metrics.
 *
 * <p>Durations come from the job's events (their {@code at} times), and are reported once, after the event is
 * stored: never again when a job replays its journal.
 */
public interface JobMetrics {
  /** A job entered {@code status}. */
  void transition(String endpoint, JobStatus status);

  /**
   * A job got a slot: from being queued to its attempt starting (cold starts included).
   *
   * @param owner whose job it is; null for a job without an owner
   */
  void queueWait(String endpoint, String owner, Duration waited);

  /** A job ended (succeeded, failed or cancelled): from its creation to now. */
  void finished(String endpoint, JobStatus status, Duration sinceCreated);

  /** From asking the journal to store a job's event to its confirmation. */
  void journalWrite(Duration duration);

  /**
   * Reports a stored event: the journal's write time and, when the job's status changed, the transition and the
   * wait it ended (from the events' times).
   */
  default void persisted(RequestState before, RequestState.Job job, Request.Event event, Duration write) {
    journalWrite(write);
    if (before instanceof RequestState.Job was && was.status() == job.status()) {
      return;
    }
    String name = job.core().spec().endpoint();
    transition(name, job.status());
    if (before instanceof RequestState.Queued queued && job instanceof RequestState.Running) {
      // Nothing touches a queued job but its queueing, so its updatedAt is when it was queued.
      queueWait(name, job.core().spec().owner(), Duration.between(queued.core().updatedAt(), event.at()));
    }
    if (job.status().isTerminal()) {
      finished(name, job.status(), Duration.between(job.core().createdAt(), event.at()));
    }
  }

  JobMetrics NONE = new JobMetrics() {
    @Override
    public void transition(String endpoint, JobStatus status) {}

    @Override
    public void queueWait(String endpoint, String owner, Duration waited) {}

    @Override
    public void finished(String endpoint, JobStatus status, Duration sinceCreated) {}

    @Override
    public void journalWrite(Duration duration) {}
  };
}
