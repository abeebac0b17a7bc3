package warmgate.persistence;

/** The journal TCK on the embedded default: a fresh H2 file, as a node without WARMGATE_DB_URL uses. */
public class H2JournalTckTest extends JournalTck {
  public H2JournalTckTest() {
    super(TckDatabase.h2());
  }
}
