package warmgate.persistence;

import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.jdbc.config.JournalConfig;
import org.apache.pekko.persistence.jdbc.config.ReadJournalConfig;
import org.apache.pekko.persistence.jdbc.db.SlickDatabase;
import org.apache.pekko.persistence.jdbc.db.SlickExtension;
import org.apache.pekko.persistence.jdbc.db.SlickExtensionImpl;
import org.apache.pekko.persistence.jdbc.query.dao.DefaultReadJournalDao;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.stream.Materializer;
import warmgate.index.TestDatabase;

/**
 * The journal plugin's DAOs on a test database, constructed with what the plugin hands them (its Slick database,
 * profile, configuration and serialization), and the test kit they run on; no cluster. Closing it stops the kit and
 * drops the database.
 */
final class JournalDaos implements AutoCloseable {
  final TestDatabase db;
  final ActorTestKit testKit;
  private final SlickDatabase slick;
  private final Serialization serialization;

  JournalDaos(TestDatabase db) {
    this.db = db;
    this.testKit = ActorTestKit.create(db.config);
    var classic = Adapter.toClassic(testKit.system());
    this.slick = ((SlickExtensionImpl) SlickExtension.get(classic)).database(db.config.getConfig("jdbc-journal"));
    this.serialization = SerializationExtension.get(classic);
  }

  BatchingJournalDao batching() {
    return new BatchingJournalDao(slick.database(), slick.profile(),
        new JournalConfig(db.config.getConfig("jdbc-journal")), serialization, testKit.system().executionContext(),
        Materializer.matFromSystem(testKit.system()));
  }

  ReadJournalConfig readConfig() {
    return new ReadJournalConfig(db.config.getConfig("jdbc-read-journal"));
  }

  /** The plugin's own read DAO, to compare with. */
  DefaultReadJournalDao pluginReads() {
    return new DefaultReadJournalDao(slick.database(), slick.profile(), readConfig(), serialization,
        testKit.system().executionContext(), Materializer.matFromSystem(testKit.system()));
  }

  TagSeekReadDao seekingReads() {
    return new TagSeekReadDao(slick.database(), slick.profile(), readConfig(), serialization,
        testKit.system().executionContext(), Materializer.matFromSystem(testKit.system()));
  }

  @Override
  public void close() {
    testKit.shutdownTestKit();
    db.close();
  }
}
