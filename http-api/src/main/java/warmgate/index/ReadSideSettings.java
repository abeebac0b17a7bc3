package warmgate.index;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The read side, read from {@code warmgate.read-side}.
 *
 * @param poolSize connections of the read side's own pool (projections, list queries, the waker)
 * @param grouping how many events the job index projection folds per transaction
 */
public record ReadSideSettings(int poolSize, Grouping grouping, Waker waker) {

  /**
   * @param size the most events one projection transaction folds
   * @param within how long a group waits for more events after its first, before it is written anyway
   */
  public record Grouping(int size, Duration within) {
    public Grouping {
      if (size < 1 || within.isNegative() || within.isZero()) {
        throw new IllegalArgumentException(
            "warmgate.read-side.projection-group-size must be at least 1 and projection-group-within above zero");
      }
    }
  }

  /**
   * @param rate jobs woken per second
   * @param pageSize job ids read from the index per query
   * @param catchUpTimeout how long a run waits for the projections to reach the journal's end before it wakes anyway
   * @param interval how often the waker runs on its own; zero: only at start and when a member is removed
   * @param confirmTimeout how long a woken job has to answer that it runs before it is asked again
   */
  public record Waker(int rate, int pageSize, Duration catchUpTimeout, Duration interval, Duration confirmTimeout) {
    public Waker {
      if (rate < 1 || pageSize < 1) {
        throw new IllegalArgumentException("warmgate.read-side.waker.rate and page-size must be at least 1");
      }
      if (interval.isNegative() || catchUpTimeout.isNegative() || confirmTimeout.isNegative()
          || confirmTimeout.isZero()) {
        throw new IllegalArgumentException(
            "warmgate.read-side.waker durations must not be negative (confirm-timeout above zero)");
      }
    }
  }

  public ReadSideSettings {
    if (poolSize < 2) {
      throw new IllegalArgumentException(
          "warmgate.read-side.pool-size must be at least 2: a projection and a query at once");
    }
  }

  public static ReadSideSettings fromConfig(Config warmgate) {
    Config c = warmgate.getConfig("read-side");
    Config w = c.getConfig("waker");
    return new ReadSideSettings(c.getInt("pool-size"),
        new Grouping(c.getInt("projection-group-size"), c.getDuration("projection-group-within")),
        new Waker(w.getInt("rate"), w.getInt("page-size"), w.getDuration("catch-up-timeout"), w.getDuration("interval"),
            w.getDuration("confirm-timeout")));
  }
}
