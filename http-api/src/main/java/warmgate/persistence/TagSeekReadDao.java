package warmgate.persistence;

import static warmgate.persistence.JournalSql.qualified;
import static warmgate.persistence.JournalSql.quoted;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.NotUsed;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.jdbc.PekkoSerialization$;
import org.apache.pekko.persistence.jdbc.config.EventJournalTableColumnNames;
import org.apache.pekko.persistence.jdbc.config.EventTagTableColumnNames;
import org.apache.pekko.persistence.jdbc.config.ReadJournalConfig;
import org.apache.pekko.persistence.jdbc.journal.dao.JournalTables.JournalPekkoSerializationRow;
import org.apache.pekko.persistence.jdbc.query.dao.DefaultReadJournalDao;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.scaladsl.Source;
import scala.Tuple3;
import scala.collection.immutable.Set;
import scala.concurrent.ExecutionContext;
import scala.util.Try;
import slick.jdbc.JdbcBackend;
import slick.jdbc.JdbcProfile;

/**
 * pekko-persistence-jdbc's read journal DAO with one query of its own: the events of a tag after an offset, which the
 * read side's projections ask for again and again (warmgate.index).
 *
 * <p>The plugin puts the offset range on the journal's {@code ordering} only, and neither PostgreSQL nor H2 carries a
 * range across the join to {@code event_tag}. So the tag's rows were read from the tag's first event on, every query:
 * each page of the job index's projection cost more the longer the journal (25.6 ms for 500 events 300,000 events
 * deep in a 400,000-event journal against 1.2 ms here; docs/benchmarks.md, section 10). Here the range is on both
 * sides of the join, so both indexes ({@code event_tag (tag, event_id)} and the journal's {@code ordering}) start at
 * the offset and stop at the page's limit. Same rows, same order, same answer as the plugin's: its tag set is empty
 * too, the caller knows the tag.
 *
 * <p>Configured as {@code jdbc-read-journal.dao} (persistence.conf); the plugin constructs it by reflection with the
 * constructor below.
 */
public final class TagSeekReadDao extends DefaultReadJournalDao {
  /** What the plugin hands on as an event's tags here: none, since the caller asked for the tag. */
  @SuppressWarnings("unchecked")
  private static final Set<String> NO_TAGS = (Set<String>) (Set<?>) scala.collection.immutable.Set$.MODULE$.empty();

  private final JdbcBackend.JdbcDatabaseDef db;
  private final Serialization serialization;
  private final String select;

  public TagSeekReadDao(JdbcBackend.JdbcDatabaseDef db, JdbcProfile profile, ReadJournalConfig readJournalConfig,
      Serialization serialization, ExecutionContext ec, Materializer mat) {
    super(db, profile, readJournalConfig, serialization, ec, mat);
    this.db = db;
    this.serialization = serialization;
    this.select = selectFor(readJournalConfig);
  }

  static String selectFor(ReadJournalConfig config) {
    var events = config.eventJournalTableConfiguration();
    var tags = config.eventTagTableConfiguration();
    EventJournalTableColumnNames e = events.columnNames();
    EventTagTableColumnNames t = tags.columnNames();
    String ordering = "j." + quoted(e.ordering());
    String eventId = "t." + quoted(t.eventId());
    return "SELECT " + String.join(", ", JournalSql.rowColumns(e, "j"))
        + " FROM " + qualified(tags.schemaName(), tags.tableName()) + " t JOIN "
        + qualified(events.schemaName(), events.tableName()) + " j ON " + ordering + " = " + eventId
        + " WHERE t." + quoted(t.tag()) + " = ? AND " + eventId + " > ? AND " + eventId + " <= ? AND "
        + ordering + " > ? AND " + ordering + " <= ? AND j." + quoted(e.deleted()) + " = FALSE"
        + " ORDER BY " + eventId + " LIMIT ?";
  }

  @Override
  public Source<Try<Tuple3<PersistentRepr, Set<String>, Object>>, NotUsed> eventsByTag(String tag, long offset,
      long maxOffset, long max) {
    return org.apache.pekko.stream.javadsl.Source
        .completionStage(JournalSql.call(db, c -> read(c, tag, offset, maxOffset, max)))
        .mapConcat(rows -> rows)
        .map(row -> PekkoSerialization$.MODULE$.fromRow(serialization, row)
            .map(read -> new Tuple3<PersistentRepr, Set<String>, Object>(read._1(), NO_TAGS, read._2())))
        .asScala();
  }

  private List<JournalPekkoSerializationRow> read(Connection c, String tag, long offset, long maxOffset,
      long max) {
    List<JournalPekkoSerializationRow> rows = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(select)) {
      ps.setString(1, tag);
      ps.setLong(2, offset);
      ps.setLong(3, maxOffset);
      ps.setLong(4, offset);
      ps.setLong(5, maxOffset);
      // H2 takes no LIMIT beyond an int; the plugin caps it the same way (its H2Compat).
      ps.setLong(6, Math.min(max, Integer.MAX_VALUE));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(JournalSql.row(rs));
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("reading the events of tag " + tag + " after " + offset + " failed: "
          + e.getMessage(), e);
    }
    return rows;
  }
}
