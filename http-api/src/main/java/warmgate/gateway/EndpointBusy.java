package warmgate.gateway;

/**
 * New work is turned away for now: the endpoint's wait queue is full, or the job's owner already has its
 * {@code max-queued} jobs waiting there. It is turned away instead of piling up in journals faster than the endpoint
 * can serve it, and an owner's flood is turned away before it fills the queue for everybody else. The edge answers
 * with {@code Retry-After}: 429 to a client submitting a job, 503 to a notification sender (SNS counts a 4xx as
 * delivered, a 5xx makes it deliver again).
 */
public final class EndpointBusy extends RuntimeException {
  private final String code;
  private final long retryAfterSeconds;

  private EndpointBusy(String code, String message, long retryAfterSeconds) {
    super(message, null, false, false);
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public EndpointBusy(String endpoint, int queued, long retryAfterSeconds) {
    this("endpoint_busy", "endpoint " + endpoint + " has " + queued + " job(s) waiting, its max-queued; try again in "
        + retryAfterSeconds + " s", retryAfterSeconds);
  }

  /** The owner has {@code queued} jobs waiting at the endpoint, its quota ({@code queue.owners.<owner>.max-queued}). */
  public static EndpointBusy ownerQuota(String endpoint, String owner, int queued, long retryAfterSeconds) {
    String who = owner == null ? "jobs without an owner" : "owner " + owner;
    return new EndpointBusy("owner_quota_exceeded", who + " has " + queued + " job(s) waiting at endpoint " + endpoint
        + ", its max-queued there; other owners are not affected; try again in " + retryAfterSeconds + " s",
        retryAfterSeconds);
  }

  /** The error code of the answer: {@code endpoint_busy} or {@code owner_quota_exceeded}. */
  public String code() {
    return code;
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
