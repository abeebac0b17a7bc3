package warmgate.gateway;

/**
 * An endpoint's wait queue is full: new work is turned away until it drains, instead of piling up in journals
 * faster than the endpoint can serve it. The edge answers with {@code Retry-After}: 429 to a client submitting a
 * job, 503 to a notification sender (SNS counts a 4xx as delivered, a 5xx makes it deliver again).
 */
public final class EndpointBusy extends RuntimeException {
  private final long retryAfterSeconds;

  public EndpointBusy(String endpoint, int queued, long retryAfterSeconds) {
    super("endpoint " + endpoint + " has " + queued + " job(s) waiting, its max-queued; try again in "
        + retryAfterSeconds + " s", null, false, false);
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
