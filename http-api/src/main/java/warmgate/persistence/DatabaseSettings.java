package warmgate.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where the journal lives, read from {@code warmgate.database}. The URL alone picks the database: empty means
 * the embedded H2 file under the data folder, {@code jdbc:postgresql:...} means PostgreSQL. Everything
 * pekko-persistence-jdbc needs (Slick profile, driver, pool) follows from it.
 */
public record DatabaseSettings(Kind kind, String url, String user, String password, int maxConnections) {

  public enum Kind {
    H2("slick.jdbc.H2Profile$", "org.h2.Driver", "schema/h2.sql", "h2-dialect"),
    POSTGRES("slick.jdbc.PostgresProfile$", "org.postgresql.Driver", "schema/postgres.sql", "postgres-dialect");

    final String slickProfile;
    final String driver;
    final String schemaScript;
    final String projectionDialect;

    Kind(String slickProfile, String driver, String schemaScript, String projectionDialect) {
      this.slickProfile = slickProfile;
      this.driver = driver;
      this.schemaScript = schemaScript;
      this.projectionDialect = projectionDialect;
    }

    public String driver() {
      return driver;
    }
  }

  /**
   * H2 options: FS locking is released by the OS when a process dies, so a node restarted after a crash
   * opens the file at once; WRITE_DELAY=0 writes every commit before it returns, so an acknowledged event
   * survives the process being killed; DB_CLOSE_ON_EXIT=FALSE leaves closing to our own shutdown.
   */
  static final String H2_OPTIONS = ";FILE_LOCK=FS;WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE";

  public static DatabaseSettings fromConfig(Config warmgate) {
    Config c = warmgate.getConfig("database");
    String url = c.getString("url");
    int maxConnections = c.getInt("max-connections");
    if (url.isBlank()) {
      Path file = Path.of(warmgate.getString("data-dir")).toAbsolutePath().normalize().resolve("journal");
      return new DatabaseSettings(Kind.H2, "jdbc:h2:file:" + file + H2_OPTIONS, "sa", "", maxConnections);
    }
    if (url.startsWith("jdbc:postgresql:")) {
      return new DatabaseSettings(Kind.POSTGRES, url, c.getString("user"), c.getString("password"), maxConnections);
    }
    if (url.startsWith("jdbc:h2:")) {
      return new DatabaseSettings(Kind.H2, url, c.getString("user"), c.getString("password"), maxConnections);
    }
    throw new IllegalArgumentException(
        "warmgate.database.url (WARMGATE_DB_URL) must be empty (embedded H2), jdbc:postgresql:... or jdbc:h2:..., not "
            + url);
  }

  /** The application config with the journal's shared database pointed here. */
  public static Config applyTo(Config config) {
    return fromConfig(config.getConfig("warmgate")).pekkoConfig().withFallback(config).resolve();
  }

  /**
   * The {@code pekko-persistence-jdbc.shared-databases.warmgate} block for this database, and the SQL dialect
   * of the read side's projection offsets, which live in the same database.
   */
  public Config pekkoConfig() {
    String path = "pekko-persistence-jdbc.shared-databases.warmgate";
    return ConfigFactory.empty()
        .withValue("pekko.projection.jdbc.dialect", ConfigValueFactory.fromAnyRef(kind.projectionDialect))
        .withValue(path + ".profile", ConfigValueFactory.fromAnyRef(kind.slickProfile))
        .withValue(path + ".db", ConfigValueFactory.fromMap(Map.of(
            "url", url,
            "user", user,
            "password", password,
            "driver", kind.driver,
            "numThreads", maxConnections,
            "maxConnections", maxConnections,
            "minConnections", 1,
            "connectionTimeout", 10000)));
  }

  /** Never prints the password, so the settings can be logged. */
  @Override
  public String toString() {
    return "DatabaseSettings[kind=" + kind + ", url=" + url + ", user=" + user + ", password=" + (password.isEmpty()
        ? "" : "***")
        + ", maxConnections=" + maxConnections + "]";
  }
}
