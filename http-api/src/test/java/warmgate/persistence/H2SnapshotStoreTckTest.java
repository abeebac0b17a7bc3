package warmgate.persistence;

/** The snapshot store TCK on the embedded default: a fresh H2 file. */
public class H2SnapshotStoreTckTest extends SnapshotStoreTck {
  public H2SnapshotStoreTckTest() {
    super(TckDatabase.h2());
  }
}
