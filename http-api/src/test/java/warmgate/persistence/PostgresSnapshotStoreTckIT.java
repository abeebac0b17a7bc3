package warmgate.persistence;

/** The snapshot store TCK on a fresh database on the real PostgreSQL server. */
public class PostgresSnapshotStoreTckIT extends SnapshotStoreTck {
  public PostgresSnapshotStoreTckIT() {
    super(TckDatabase.postgres());
  }
}
