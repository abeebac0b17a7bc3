package warmgate.persistence;

import org.apache.pekko.persistence.CapabilityFlag;
import org.apache.pekko.persistence.japi.snapshot.JavaSnapshotStoreSpec;

/**
 * The Pekko Persistence TCK's snapshot store suite against Warmgate's snapshot store configuration
 * (jdbc-snapshot-store on the shared database) on a fresh database; see {@link JournalTck}.
 */
abstract class SnapshotStoreTck extends JavaSnapshotStoreSpec {
  private final TckDatabase database;

  SnapshotStoreTck(TckDatabase database) {
    super(database.config);
    this.database = database;
  }

  @Override
  public CapabilityFlag supportsSerialization() {
    return CapabilityFlag.on();
  }

  /** pekko-persistence-jdbc keeps snapshot metadata in its own columns (meta_payload in schema/*.sql). */
  @Override
  public CapabilityFlag supportsMetadata() {
    return CapabilityFlag.on();
  }

  @Override
  public void beforeAll() {
    database.open();
    super.beforeAll();
  }

  @Override
  public void afterAll() {
    try {
      super.afterAll();
    } finally {
      database.close();
    }
  }
}
