package warmgate.persistence;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates the journal tables when they are missing; safe on every start and from several nodes at once. */
public final class Schema {
  private static final Logger log = LoggerFactory.getLogger(Schema.class);
  /** Any fixed number: nodes starting together take turns creating the tables instead of racing. */
  private static final long POSTGRES_LOCK_KEY = 0x5741524d47415445L;

  private Schema() {}

  public static void createIfMissing(DatabaseSettings db) {
    List<String> statements = statements(db.kind().schemaScript);
    try (Connection connection = DriverManager.getConnection(db.url(), db.user(), db.password())) {
      connection.setAutoCommit(false);
      try (Statement statement = connection.createStatement()) {
        if (db.kind() == DatabaseSettings.Kind.POSTGRES) {
          statement.execute("SELECT pg_advisory_xact_lock(" + POSTGRES_LOCK_KEY + ")");
        }
        for (String sql : statements) {
          statement.execute(sql);
        }
      }
      connection.commit();
      log.info("Journal schema ready ({})", db.kind());
    } catch (SQLException e) {
      throw new IllegalStateException("could not create the journal schema in " + db.url() + ": " + e.getMessage(), e);
    }
  }

  static List<String> statements(String resource) {
    try (InputStream in = Schema.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("schema script " + resource + " is missing from the jar");
      }
      String script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return Arrays.stream(script.split("(?m)^;\\s*$"))
          .map(s -> s.lines().filter(l -> !l.trim().startsWith("--")).reduce("", (a, b) -> a + b + "\n").trim())
          .filter(s -> !s.isEmpty())
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
