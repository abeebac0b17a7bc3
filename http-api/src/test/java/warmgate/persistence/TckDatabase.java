package warmgate.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import warmgate.e2e.Folders;
import warmgate.e2e.Postgres;

/**
 * A fresh database for one run of a Pekko Persistence TCK suite, and the node's own configuration pointing at
 * it: application.conf (so persistence.conf's jdbc-journal and jdbc-snapshot-store on the shared database
 * "warmgate"), filled in by {@link DatabaseSettings} and with the tables made by {@link Schema}, as Main does.
 * The TCK therefore checks the journal exactly as a node runs it, not a configuration of its own.
 */
final class TckDatabase implements AutoCloseable {
  final Config config;
  private final Path dataDir;
  private final Postgres postgres;

  private TckDatabase(Postgres postgres) {
    // Named here, made in open(): like the database, a folder made for a suite that never runs is never deleted.
    this.dataDir = Path.of(System.getProperty("java.io.tmpdir"), "warmgate-tck-" + UUID.randomUUID());
    this.postgres = postgres;
    Map<String, Object> overrides = new HashMap<>();
    overrides.put("warmgate.data-dir", dataDir.toString());
    overrides.put("pekko.remote.artery.canonical.port", 0);
    if (postgres != null) {
      overrides.put("warmgate.database.url", postgres.url);
      overrides.put("warmgate.database.user", Postgres.USER);
    }
    this.config = DatabaseSettings.applyTo(ConfigFactory.load(
        ConfigFactory.parseMap(overrides).withFallback(ConfigFactory.parseResourcesAnySyntax("application"))));
  }

  /**
   * Makes the data folder, the database and its tables: from the suite's beforeAll, not its constructor, since the
   * TCK's engine
   * constructs suites it then does not run (and never closes), which left a database behind on every run.
   */
  void open() {
    try {
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (postgres != null) {
      postgres.create();
    }
    Schema.createIfMissing(DatabaseSettings.fromConfig(config.getConfig("warmgate")));
  }

  /** The embedded default: an H2 file in a new temporary folder. */
  static TckDatabase h2() {
    return new TckDatabase(null);
  }

  /** A new database on the real PostgreSQL server, dropped on close. */
  static TckDatabase postgres() {
    return new TckDatabase(Postgres.deferred());
  }

  /** Call after the suite's actor system is gone, so no pooled connection holds the database. */
  @Override
  public void close() {
    if (postgres != null) {
      postgres.close();
    }
    try {
      if (Files.exists(dataDir)) {
        Folders.deleteTree(dataDir);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
