package warmgate.config;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * How long a warm endpoint with nothing queued or running stays up: {@code keep-warm} of an endpoint's settings.
 *
 * @param policy {@code fixed}: always {@code idle-timeout}; {@code adaptive}: learned from the endpoint's idle gaps
 * @param breakEven what one stop and cold start cost in billed endpoint-time (about the start's duration plus the
 *     stop's); also taken as how long jobs arriving at a cold endpoint wait
 * @param delayWeight what one second of a job's wait for a cold start is worth in billed endpoint-seconds; 0: only
 *     the bill counts
 * @param min the shortest an adaptive endpoint stays warm; it bounds the worst case (see KeepWarmPolicy)
 * @param max the longest an adaptive endpoint stays warm
 * @param window how many of the latest idle gaps an adaptive endpoint learns from
 */
public record KeepWarmSettings(
    Policy policy, Duration breakEven, double delayWeight, Duration min, Duration max, int window) {

  public enum Policy {
    FIXED,
    ADAPTIVE
  }

  /** The idle timeout alone, with the adaptive parameters at their defaults. */
  public static final KeepWarmSettings FIXED =
      new KeepWarmSettings(Policy.FIXED, Duration.ofSeconds(510), 1.0, Duration.ofMinutes(2), Duration.ofMinutes(30),
          50);

  public KeepWarmSettings {
    if (breakEven.isNegative() || breakEven.isZero()) {
      throw new IllegalArgumentException("keep-warm.break-even must be positive");
    }
    if (!(delayWeight >= 0)) {
      throw new IllegalArgumentException("keep-warm.delay-weight must not be negative");
    }
    if (min.isNegative() || min.isZero()) {
      throw new IllegalArgumentException("keep-warm.min must be positive");
    }
    if (max.compareTo(min) < 0) {
      throw new IllegalArgumentException("keep-warm.max must not be below keep-warm.min");
    }
    if (window < 1) {
      throw new IllegalArgumentException("keep-warm.window must be at least 1");
    }
  }

  /** Reads a {@code keep-warm} block; keys it lacks keep their defaults. */
  public static KeepWarmSettings of(Config c) {
    String policy = c.hasPath("policy") ? c.getString("policy") : "fixed";
    Policy p = switch (policy) {
      case "fixed" -> Policy.FIXED;
      case "adaptive" -> Policy.ADAPTIVE;
      default -> throw new IllegalArgumentException("keep-warm.policy '" + policy + "' is not fixed or adaptive");
    };
    return new KeepWarmSettings(
        p,
        c.hasPath("break-even") ? c.getDuration("break-even") : FIXED.breakEven(),
        c.hasPath("delay-weight") ? c.getDouble("delay-weight") : FIXED.delayWeight(),
        c.hasPath("min") ? c.getDuration("min") : FIXED.min(),
        c.hasPath("max") ? c.getDuration("max") : FIXED.max(),
        c.hasPath("window") ? c.getInt("window") : FIXED.window());
  }
}
