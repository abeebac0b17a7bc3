package warmgate.request;

import java.time.Duration;
import warmgate.job.JobStatus;

/**
 * What {@link Request} entities report about jobs, on the node that hosts them. http-api exposes it in Prometheus
 * format; {@link #NONE} is for tests and for nodes that do not expose metrics.
 *
 * <p>Durations come from the job's events (their {@code at} times), and are reported once, after the event is
 * stored: never again when a job replays its journal.
 */
public interface JobMetrics {
  /** A job entered {@code status}. */
  void transition(String endpoint, JobStatus status);

  /** A job got a slot: from being queued to its attempt starting (cold starts included). */
  void queueWait(String endpoint, Duration waited);

  /** A job ended (succeeded, failed or cancelled): from its creation to now. */
  void finished(String endpoint, JobStatus status, Duration sinceCreated);

  /** From asking the journal to store a job's event to its confirmation. */
  void journalWrite(Duration duration);

  JobMetrics NONE = new JobMetrics() {
    @Override
    public void transition(String endpoint, JobStatus status) {}

    @Override
    public void queueWait(String endpoint, Duration waited) {}

    @Override
    public void finished(String endpoint, JobStatus status, Duration sinceCreated) {}

    @Override
    public void journalWrite(Duration duration) {}
  };
}
