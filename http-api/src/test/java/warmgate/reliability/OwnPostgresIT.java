package warmgate.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

// The server ChaosIT stops: what a stop does to a client is what the test's outage claims.
class OwnPostgresIT {
  /**
   * 57P01 "terminating connection due to administrator command" (seen after a fast stop), or 08006 when the driver
   * finds the socket closed before any message (seen after an immediate one).
   */
  private static final String[] ENDED_SESSION = {"57P01", "08006"};

  @Test
  void aStoppedServerRefusesConnectionsAndKeepsCommittedRowsThroughAnImmediateStop() throws Exception {
    try (OwnPostgres pg = OwnPostgres.create()) {
      try (Connection c = pg.connect(); Statement s = c.createStatement()) {
        s.execute("CREATE TABLE t (v int)");
        s.execute("INSERT INTO t VALUES (42)");
      }
      Connection open = pg.connect();

      pg.stop(OwnPostgres.Stop.IMMEDIATE);

      assertThatThrownBy(() -> open.createStatement().execute("SELECT 1")).as("a session the stop ended")
          .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isIn(ENDED_SESSION));
      assertThatThrownBy(pg::connect).as("a new connection while stopped").isInstanceOf(SQLException.class);
      open.close();

      pg.start();

      try (Connection c = pg.connect(); Statement s = c.createStatement(); ResultSet r = s.executeQuery(
          "SELECT v FROM t")) {
        assertThat(r.next()).isTrue();
        assertThat(r.getInt(1)).isEqualTo(42);
      }
    }
  }

  @Test
  void aFastStopEndsOpenSessionsAndTheServerStartsAgain() throws Exception {
    try (OwnPostgres pg = OwnPostgres.create()) {
      Connection open = pg.connect();

      pg.stop(OwnPostgres.Stop.FAST);

      assertThatThrownBy(() -> open.createStatement().execute("SELECT 1"))
          .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isIn(ENDED_SESSION));
      open.close();
      pg.start();
      try (Connection c = pg.connect(); Statement s = c.createStatement()) {
        assertThat(s.execute("SELECT 1")).isTrue();
      }
    }
  }
}
