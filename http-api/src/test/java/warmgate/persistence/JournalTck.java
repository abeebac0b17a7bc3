package warmgate.persistence;

import org.apache.pekko.persistence.CapabilityFlag;
import org.apache.pekko.persistence.japi.journal.JavaJournalSpec;

/**
 * The Pekko Persistence TCK's journal suite against Warmgate's journal configuration on a fresh database. A
 * ScalaTest suite, run on the JUnit Platform by scalatestplus' engine, so surefire and failsafe report each
 * TCK case. Subclasses pick the database.
 */
abstract class JournalTck extends JavaJournalSpec {
  private final TckDatabase database;

  JournalTck(TckDatabase database) {
    super(database.config);
    this.database = database;
  }

  /** Events go through Pekko serialization (Jackson for ours), so one without a serializer is rejected. */
  @Override
  public CapabilityFlag supportsRejectingNonSerializableObjects() {
    return CapabilityFlag.on();
  }

  @Override
  public CapabilityFlag supportsSerialization() {
    return CapabilityFlag.on();
  }

  /** pekko-persistence-jdbc keeps event metadata in its own columns (meta_payload in schema/*.sql). */
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
