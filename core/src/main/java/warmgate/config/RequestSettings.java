package warmgate.config;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * How jobs behave, read from {@code warmgate.request}.
 *
 * @param maxAttempts attempts before a job with transient failures is failed
 * @param backoffMin first retry delay; doubled per attempt, with full jitter
 * @param backoffMax the longest retry delay
 * @param acquireInterval how often a queued job repeats its request for a slot
 * @param inputsTimeout how long a job waits for a missing input (an image's mask) before failing
 * @param inputsCheckInterval how often a waiting job looks for its missing inputs
 * @param attemptTimeout the longest one attempt (read inputs, invoke, write output) may take
 * @param passivateAfter how long a finished job stays in memory before its actor stops
 * @param parkAfter how long a queued job waits in memory before it parks (leaves memory, keeping its place in the
 *     endpoint's queue); zero: never
 * @param resultLookFirst how long after an asynchronous invocation was accepted the job first looks for its answer,
 *     in case no notification comes; the wait doubles after each look
 * @param resultLookMax the longest wait between two looks
 * @param parkAtOnce a queued job parks as soon as its endpoint holds its place, unless its turn is near (the endpoint
 *     decides); {@code parkAfter} stays the longest a job waits in memory. Off: every queued job waits
 *     {@code parkAfter} in memory first. Nothing parks with {@code parkAfter} zero.
 */
public record RequestSettings(
    int maxAttempts,
    Duration backoffMin,
    Duration backoffMax,
    Duration acquireInterval,
    Duration inputsTimeout,
    Duration inputsCheckInterval,
    Duration attemptTimeout,
    Duration passivateAfter,
    Duration parkAfter,
    Duration resultLookFirst,
    Duration resultLookMax,
    boolean parkAtOnce) {

  /** Looks for asynchronous answers after 5 s, then at most every minute; queued jobs wait {@code parkAfter}. */
  public RequestSettings(int maxAttempts, Duration backoffMin, Duration backoffMax, Duration acquireInterval,
      Duration inputsTimeout, Duration inputsCheckInterval, Duration attemptTimeout, Duration passivateAfter,
      Duration parkAfter) {
    this(maxAttempts, backoffMin, backoffMax, acquireInterval, inputsTimeout, inputsCheckInterval, attemptTimeout,
        passivateAfter, parkAfter, Duration.ofSeconds(5), Duration.ofMinutes(1), false);
  }

  /** The same settings with {@code park-at-once} set. */
  public RequestSettings withParkAtOnce(boolean on) {
    return new RequestSettings(maxAttempts, backoffMin, backoffMax, acquireInterval, inputsTimeout,
        inputsCheckInterval, attemptTimeout, passivateAfter, parkAfter, resultLookFirst, resultLookMax, on);
  }

  /** Whether a queued job asks to park as soon as its endpoint holds its place. */
  public boolean parksAtOnce() {
    return parkAtOnce && !parkAfter.isZero();
  }

  public RequestSettings {
    if (resultLookFirst.isNegative() || resultLookFirst.isZero() || resultLookMax.compareTo(resultLookFirst) < 0) {
      throw new IllegalArgumentException(
          "warmgate.request.result-look-first must be positive and result-look-max not below it");
    }
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("warmgate.request.max-attempts must be at least 1");
    }
    if (backoffMax.compareTo(backoffMin) < 0) {
      throw new IllegalArgumentException("warmgate.request.backoff-max must not be below backoff-min");
    }
    if (parkAfter.isNegative()) {
      throw new IllegalArgumentException("warmgate.request.park-after must not be negative");
    }
  }

  public static RequestSettings fromConfig(Config warmgate) {
    Config c = warmgate.getConfig("request");
    return new RequestSettings(
        c.getInt("max-attempts"),
        c.getDuration("backoff-min"),
        c.getDuration("backoff-max"),
        c.getDuration("acquire-interval"),
        c.getDuration("inputs-timeout"),
        c.getDuration("inputs-check-interval"),
        c.getDuration("attempt-timeout"),
        c.getDuration("passivate-after"),
        c.getDuration("park-after"),
        c.getDuration("result-look-first"),
        c.getDuration("result-look-max"),
        c.getBoolean("park-at-once"));
  }
}
