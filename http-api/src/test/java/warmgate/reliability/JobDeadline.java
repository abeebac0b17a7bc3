package warmgate.reliability;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import warmgate.config.EndpointSettings;
import warmgate.config.RequestSettings;

/**
 * The longest a job may take under {@link FaultyProvider}'s and {@link FaultyModel}'s bounded faults before it is
 * terminal, derived from the configuration; docs/reliability.md ("Endpoint faults") walks through it.
 *
 * <p>A job makes at most {@code max-attempts} attempts. Before each it waits for a slot ({@link #slotWait}), the
 * attempt takes at most {@code attempt-timeout}, and between attempts it backs off at most
 * {@code min(backoff-max, backoff-min * 2^(n-1))} after attempt n. The test keeps no more jobs unfinished than
 * the endpoint has slots, so a job never waits behind another job: it waits only while the endpoint is not warm,
 * for at most one outage, because an endpoint that came back serves for longer than a refused job takes to ask
 * again. {@code allowance} covers what configuration does not: journal writes, messages and HTTP on a busy machine.
 */
record JobDeadline(Map<String, Duration> slotWaitTerms, Duration slotWait, Duration attempt, Duration backoffs,
    int attempts,
    Duration allowance, Duration total) {

  static JobDeadline of(EndpointSettings endpoint, RequestSettings request, FaultyProvider.Plan faults,
      Duration allowance) {
    Duration tick = tick(endpoint);
    Duration poll = endpoint.statusPollInterval().plus(tick);
    int describesPerAnswer = faults.maxThrottledDescribesInARow() + 1;
    Map<String, Duration> terms = new LinkedHashMap<>();
    // Stopping (idle, or after the provider reported Failed): polled until absent, through throttled describes.
    terms.put("stop", poll.multipliedBy(describesPerAnswer));
    // Each failed start: a create that hangs is given up at start-timeout; one that fails shows within a poll.
    int failedStarts = faults.maxFailedStartsInARow();
    Duration failedStart = max(endpoint.startTimeout().plus(tick),
        faults.coldStartMax().plus(poll.multipliedBy(describesPerAnswer)));
    terms.put(failedStarts + " failed starts", failedStart.multipliedBy(failedStarts));
    Duration startBackoffs = Duration.ZERO;
    int backedOff = Math.min(failedStarts, endpoint.maxStartFailures() - 1);
    for (int i = 1; i <= backedOff; i++) {
      startBackoffs = startBackoffs.plus(startBackoff(endpoint, i)).plus(tick);
    }
    terms.put("start backoffs", startBackoffs);
    if (failedStarts >= endpoint.maxStartFailures()) {
      // FAILED: the lifecycle starts once more after failed-retry-after; a refused job asks again within 1.5x the
      // Retry-After it was given (min(1 min, failed-retry-after)), so it is at most that late to the start.
      Duration retryAfter = min(Duration.ofMinutes(1), endpoint.failedRetryAfter());
      terms.put("FAILED", endpoint.failedRetryAfter().plus(tick).plus(retryAfter.multipliedBy(3).dividedBy(2)));
    }
    terms.put("successful start", faults.coldStartMax().plus(poll.multipliedBy(describesPerAnswer)).plus(tick));
    Duration slotWait = terms.values().stream().reduce(Duration.ZERO, Duration::plus);

    int attempts = request.maxAttempts();
    Duration backoffs = Duration.ZERO;
    for (int n = 1; n < attempts; n++) {
      long cap = Math.min(request.backoffMax().toMillis(), request.backoffMin().toMillis() << Math.min(n - 1, 30));
      backoffs = backoffs.plusMillis(cap);
    }
    Duration attempt = request.attemptTimeout();
    Duration total = slotWait.plus(attempt).plus(allowance).multipliedBy(attempts).plus(backoffs);
    return new JobDeadline(terms, slotWait, attempt, backoffs, attempts, allowance, total);
  }

  /** The lifecycle's timer: EndpointEntity.tickInterval. */
  static Duration tick(EndpointSettings s) {
    return min(min(Duration.ofSeconds(1), s.statusPollInterval()), s.leaseTtl().dividedBy(4));
  }

  /** The wait after the n-th failed start in a row: EndpointEntity.startBackoff. */
  static Duration startBackoff(EndpointSettings s, int failures) {
    long base = Math.max(1000, s.statusPollInterval().toMillis());
    return Duration.ofMillis(Math.min(base << Math.min(failures, 16), Duration.ofMinutes(5).toMillis()));
  }

  /** The shortest time a refused job may take to ask again: an endpoint must stay up at least this long. */
  static Duration refusedJobReturnsWithin(EndpointSettings s) {
    return min(Duration.ofMinutes(1), s.failedRetryAfter()).multipliedBy(3).dividedBy(2);
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder();
    slotWaitTerms.forEach((name, d) -> s.append(name).append(' ').append(d.toMillis()).append(" ms + "));
    s.setLength(s.length() - 3);
    return "%d x (slot wait %d ms [%s] + attempt %d ms + allowance %d ms) + backoffs %d ms = %d ms".formatted(
        attempts, slotWait.toMillis(), s, attempt.toMillis(), allowance.toMillis(), backoffs.toMillis(),
            total.toMillis());
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
