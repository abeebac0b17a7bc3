package warmgate.index;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import warmgate.e2e.Postgres;
import warmgate.persistence.DatabaseSettings;
import warmgate.persistence.Schema;

/**
 * A fresh database with Warmgate's schema for one test class: an H2 file in a temporary folder, or a new
 * database on the real PostgreSQL server (dropped on close). {@link #config} is a node's configuration
 * pointing at it, journal and read side alike.
 */
public final class TestDatabase implements AutoCloseable {
  final DatabaseSettings settings;
  public final Config config;
  public final HikariDataSource pool;
  private final Postgres postgres;

  private TestDatabase(Map<String, Object> overrides, Postgres postgres) {
    Map<String, Object> all = new HashMap<>(overrides);
    all.put("pekko.remote.artery.canonical.port", 0);
    this.config = DatabaseSettings.applyTo(ConfigFactory.load(
        ConfigFactory.parseMap(all).withFallback(ConfigFactory.parseResourcesAnySyntax("application"))));
    this.settings = DatabaseSettings.fromConfig(config.getConfig("warmgate"));
    this.postgres = postgres;
    Schema.createIfMissing(settings);
    this.pool = ReadSidePool.create(settings, 4);
  }

  public static TestDatabase h2(Path dir) {
    return new TestDatabase(Map.of("warmgate.data-dir", dir.toString()), null);
  }

  public static TestDatabase postgres(Path dir) {
    Postgres pg = new Postgres();
    return new TestDatabase(Map.of("warmgate.data-dir", dir.toString(), "warmgate.database.url", pg.url,
        "warmgate.database.user", Postgres.USER), pg);
  }

  @Override
  public void close() {
    pool.close();
    if (postgres != null) {
      postgres.close();
    }
  }
}
