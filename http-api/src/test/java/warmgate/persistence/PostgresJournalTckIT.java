package warmgate.persistence;

/** The journal TCK on a fresh database on the real PostgreSQL server. */
public class PostgresJournalTckIT extends JournalTck {
  public PostgresJournalTckIT() {
    super(TckDatabase.postgres());
  }
}
