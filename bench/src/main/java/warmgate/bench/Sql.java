package warmgate.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import warmgate.e2e.Postgres;

/** The one-number queries the benchmarks check their databases with: row counts, settings, statistics. */
public final class Sql {
  private Sql() {}

  /** The first column of the first row of {@code query}. */
  public static long scalar(Connection c, String query) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The same on a connection of its own. */
  public static long scalar(Postgres pg, String query) throws SQLException {
    try (Connection c = pg.connect()) {
      return scalar(c, query);
    }
  }
}
