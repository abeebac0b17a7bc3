package warmgate.bench;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import warmgate.e2e.Postgres;

/**
 * Keeps a benchmark database's planner statistics current, as autovacuum would. This machine's PostgreSQL runs
 * with {@code autovacuum = off} (its CI configuration), and a journal that grew from empty in minutes is then
 * planned as if it were still empty: in a 200 000-job run the read side's by-tag query, joined the wrong way, ran
 * for over 7 minutes, and the job index stood still meanwhile. A production server has autovacuum on.
 */
public final class PlannerStatistics implements AutoCloseable {
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "analyze");
    t.setDaemon(true);
    return t;
  });

  private PlannerStatistics(Postgres pg, Duration every) {
    timer.scheduleWithFixedDelay(() -> analyze(pg), every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** ANALYZE of the whole database every {@code every}, until closed. */
  public static PlannerStatistics keepCurrent(Postgres pg, Duration every) {
    return new PlannerStatistics(pg, every);
  }

  private static void analyze(Postgres pg) {
    try (Connection c = pg.connect(); Statement s = c.createStatement()) {
      s.execute("ANALYZE");
    } catch (SQLException e) {
      System.err.println("ANALYZE failed (the next one is in a minute): " + e.getMessage());
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
