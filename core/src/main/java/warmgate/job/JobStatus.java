package warmgate.job;

import java.util.EnumSet;
import java.util.Set;

/**
 * The statuses a job shows to users (docs/api.md, `GET /v1/jobs/{jobId}`), in the order the API lists them, and the one
 * place that says
 * which of them are unfinished, terminal and cancellable: the entity, the read side's fold and the waker ask here.
 * A new status is added here first; JobStatusListsTest holds docs/openapi.yaml and the dashboard to this list.
 */
public enum JobStatus {
  WAITING_FOR_INPUTS,
  QUEUED,
  RUNNING,
  RETRY_WAIT,
  AWAITING_REVIEW,
  SUCCEEDED,
  FAILED,
  CANCELLED;

  private static final Set<JobStatus> UNFINISHED = EnumSet.of(WAITING_FOR_INPUTS, QUEUED, RUNNING, RETRY_WAIT);
  private static final Set<JobStatus> TERMINAL = EnumSet.of(SUCCEEDED, FAILED, CANCELLED);

  /** A stage in which the job acts by itself (looks for inputs, asks for a slot, runs, waits for a timer). */
  public boolean isUnfinished() {
    return UNFINISHED.contains(this);
  }

  /** Never changes again (a failed job may still be redriven, which starts a new run). */
  public boolean isTerminal() {
    return TERMINAL.contains(this);
  }

  /** A cancel ends it: every status that is not terminal, a job awaiting review included. */
  public boolean isCancellable() {
    return !isTerminal();
  }

  /** Waits for a slot: its endpoint can hold its place by id and wake it with the grant, instead of a wake. */
  public boolean waitsForSlot() {
    return this == QUEUED;
  }

  /** The unfinished statuses, in order. */
  public static Set<JobStatus> unfinished() {
    return EnumSet.copyOf(UNFINISHED);
  }

  /** The terminal statuses, in order. */
  public static Set<JobStatus> terminal() {
    return EnumSet.copyOf(TERMINAL);
  }

  /** The cancellable statuses, in order. */
  public static Set<JobStatus> cancellable() {
    return EnumSet.complementOf(EnumSet.copyOf(TERMINAL));
  }
}
