package warmgate.job;

/** The statuses a job shows to users (docs/api.md, `GET /v1/jobs/{jobId}`); terminal ones never change again. */
public enum JobStatus {
  WAITING_FOR_INPUTS,
  QUEUED,
  RUNNING,
  RETRY_WAIT,
  AWAITING_REVIEW,
  SUCCEEDED,
  FAILED,
  CANCELLED;

  public boolean isTerminal() {
    return this == SUCCEEDED || this == FAILED || this == CANCELLED;
  }
}
