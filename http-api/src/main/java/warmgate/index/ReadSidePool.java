package warmgate.index;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import warmgate.persistence.DatabaseSettings;

/**
 * The read side's connections: a small pool of its own to the journal's database, apart from the journal's,
 * so a burst of list queries never holds up a write of the entities.
 */
final class ReadSidePool {
  private ReadSidePool() {}

  static HikariDataSource create(DatabaseSettings database, int size) {
    HikariConfig config = new HikariConfig();
    config.setPoolName("warmgate-read-side");
    config.setJdbcUrl(database.url());
    config.setUsername(database.user());
    config.setPassword(database.password());
    config.setDriverClassName(database.kind().driver());
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(1);
    config.setConnectionTimeout(10_000);
    return new HikariDataSource(config);
  }
}
