package warmgate.e2e;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A fresh database on the real PostgreSQL server for one test class, dropped afterwards. The server is the
 * one the test command starts (127.0.0.1:5432, trust auth); WARMGATE_TEST_PG_URL and WARMGATE_TEST_PG_USER
 * point elsewhere. There is no fallback: a test that needs PostgreSQL fails without it.
 */
public final class Postgres implements AutoCloseable {
  public static final String ADMIN_URL = System.getenv().getOrDefault("WARMGATE_TEST_PG_URL",
      "jdbc:postgresql://127.0.0.1:5432/postgres");
  public static final String USER = System.getenv().getOrDefault("WARMGATE_TEST_PG_USER", "postgres");

  public final String database = "warmgate_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  public final String url = ADMIN_URL.substring(0, ADMIN_URL.lastIndexOf('/') + 1) + database;

  public Postgres() {
    this(true);
  }

  private Postgres(boolean create) {
    if (create) {
      create();
    }
  }

  /**
   * A name and URL only; {@link #create()} makes the database. For a test class its engine may instantiate more
   * than once (ScalaTest's on the JUnit Platform does), where only the instance that runs is closed.
   */
  public static Postgres deferred() {
    return new Postgres(false);
  }

  public void create() {
    admin("CREATE DATABASE " + database);
  }

  public Connection connect() throws SQLException {
    return DriverManager.getConnection(url, USER, "");
  }

  @Override
  public void close() {
    admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  }

  private static void admin(String sql) {
    try (Connection c = DriverManager.getConnection(ADMIN_URL, USER, ""); Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("PostgreSQL at " + ADMIN_URL + " is needed by this test and failed: "
          + e.getMessage()
          + " (start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)", e);
    }
  }
}
