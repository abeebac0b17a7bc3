package warmgate.persistence;

import static warmgate.persistence.JournalSql.qualified;
import static warmgate.persistence.JournalSql.quoted;

import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.Scheduler;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.jdbc.PekkoSerialization$;
import org.apache.pekko.persistence.jdbc.config.EventJournalTableColumnNames;
import org.apache.pekko.persistence.jdbc.config.EventTagTableColumnNames;
import org.apache.pekko.persistence.jdbc.config.JournalConfig;
import org.apache.pekko.persistence.jdbc.journal.dao.DefaultJournalDao;
import org.apache.pekko.persistence.jdbc.journal.dao.JournalTables.JournalPekkoSerializationRow;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.scaladsl.Source;
import scala.Option;
import scala.Tuple2;
import scala.collection.immutable.Seq;
import scala.collection.immutable.Set;
import scala.concurrent.ExecutionContext;
import scala.concurrent.Future;
import scala.concurrent.duration.FiniteDuration;
import scala.jdk.javaapi.CollectionConverters;
import scala.jdk.javaapi.FutureConverters;
import scala.runtime.BoxedUnit;
import scala.util.Try;
import slick.jdbc.JdbcBackend;
import slick.jdbc.JdbcProfile;
import slick.jdbc.SimpleJdbcAction;

/**
 * pekko-persistence-jdbc's journal DAO with one change: a batch of events is written with two JDBC batches in one
 * transaction, instead of one INSERT and one round trip per event.
 *
 * <p>The plugin already gathers the events of many entities into one write ({@code batchSize}), but for tagged events
 * it inserts them one by one, each waiting for its generated {@code ordering} so that it can insert the event's
 * {@code event_tag} rows. Every Warmgate event is tagged (the read side's projections read by tag), so every event
 * cost a round trip to the database, and with two cores shared by the node and PostgreSQL that capped the journal at
 * about 5 000 events a second (docs/benchmarks.md, section 3). Here the events go in one batch, and the tag rows in a
 * second that looks each event's {@code ordering} up by its primary key ({@code persistence_id},
 * {@code sequence_number}); the JDBC drivers send a batch in one round trip. The rows written are the plugin's own
 * (the same table, columns and values), so the plugin reads them back, and old journals replay, unchanged.
 *
 * <p>And one addition: the recoveries of many entities read together ({@link RecoveryReads}). An entity's recovery
 * asks for its highest sequence number and then for its events; here the first ask reads both, in one query shared
 * with every other entity recovering at that moment, and the second is answered from what it read. Recoveries from a
 * snapshot, and entities with a long history, read as the plugin does. Deletes are the plugin's.
 *
 * <p>Configured as {@code jdbc-journal.dao} (persistence.conf); the plugin constructs it by reflection with the
 * constructor below.
 */
public final class BatchingJournalDao extends DefaultJournalDao {
  private final JdbcBackend.JdbcDatabaseDef db;
  private final String insertEvent;
  private final String insertTag;
  private final Serialization serialization;
  private final RecoveryReads recoveries;

  public BatchingJournalDao(JdbcBackend.JdbcDatabaseDef db, JdbcProfile profile, JournalConfig journalConfig,
      Serialization serialization, ExecutionContext ec, Materializer mat) {
    super(db, profile, journalConfig, serialization, ec, mat);
    this.db = db;
    this.serialization = serialization;
    var events = journalConfig.eventJournalTableConfiguration();
    var tags = journalConfig.eventTagTableConfiguration();
    String eventTable = qualified(events.schemaName(), events.tableName());
    String tagTable = qualified(tags.schemaName(), tags.tableName());
    EventJournalTableColumnNames e = events.columnNames();
    EventTagTableColumnNames t = tags.columnNames();
    this.insertEvent = "INSERT INTO " + eventTable + " (" + String.join(", ", quoted(e.deleted()),
        quoted(e.persistenceId()),
        quoted(e.sequenceNumber()), quoted(e.writer()), quoted(e.writeTimestamp()), quoted(e.adapterManifest()),
        quoted(e.eventPayload()), quoted(e.eventSerId()), quoted(e.eventSerManifest()), quoted(e.metaPayload()),
        quoted(e.metaSerId()), quoted(e.metaSerManifest())) + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    this.insertTag = "INSERT INTO " + tagTable + " (" + quoted(t.eventId()) + ", " + quoted(t.tag()) + ") SELECT "
        + quoted(e.ordering()) + ", ? FROM " + eventTable + " WHERE " + quoted(e.persistenceId()) + " = ? AND "
        + quoted(e.sequenceNumber()) + " = ?";
    this.recoveries = new RecoveryReads(this::read, RecoveryReads.selectFor(eventTable, JournalSql.rowColumns(e, ""),
        quoted(e.persistenceId()), quoted(e.sequenceNumber())), System::nanoTime);
  }

  /**
   * A recovery's first ask. Pekko asks from 0 when the entity has no snapshot (every job): that ask reads the events
   * too. Any other ask, or an entity whose history is too long to read in one go, goes to the plugin, and drops
   * events an earlier read may have kept, so that the replay after it reads the journal as the plugin does.
   */
  @Override
  public Future<Object> highestSequenceNr(String persistenceId, long fromSequenceNr) {
    if (fromSequenceNr > 0) {
      recoveries.takeEvents(persistenceId);
      return super.highestSequenceNr(persistenceId, fromSequenceNr);
    }
    CompletionStage<Object> highest = recoveries.highest(persistenceId).thenCompose(answer -> {
      if (answer.tooLong()) {
        return FutureConverters.asJava(super.highestSequenceNr(persistenceId, fromSequenceNr));
      }
      return CompletableFuture.completedFuture((Object) answer.highest());
    });
    return FutureConverters.asScala(highest);
  }

  /** A recovery's replay, from the events its first ask read when it read them; otherwise the plugin's. */
  @Override
  public Source<Try<Tuple2<PersistentRepr, Object>>, NotUsed> messagesWithBatch(String persistenceId,
      long fromSequenceNr, long toSequenceNr, int batchSize, Option<Tuple2<FiniteDuration, Scheduler>> refresh) {
    Optional<List<Try<Tuple2<PersistentRepr, Object>>>> read = refresh.isEmpty()
        ? keptEvents(persistenceId, fromSequenceNr, toSequenceNr, Long.MAX_VALUE) : Optional.empty();
    if (read.isEmpty()) {
      return super.messagesWithBatch(persistenceId, fromSequenceNr, toSequenceNr, batchSize, refresh);
    }
    return org.apache.pekko.stream.javadsl.Source.from(read.get()).asScala();
  }

  /**
   * The events of {@code persistenceId} from {@code fromSequenceNr} to {@code toSequenceNr}, at most {@code max}, as
   * its recovery's first ask read them, deserialized as the plugin's replay does; empty if that ask kept none (they
   * are taken: a second call finds none). What {@link BatchingJournal} replays without a stream.
   */
  Optional<List<Try<Tuple2<PersistentRepr, Object>>>> keptEvents(String persistenceId, long fromSequenceNr,
      long toSequenceNr, long max) {
    return recoveries.takeEvents(persistenceId).map(rows -> rows.stream()
        // The plugin's replay skips a row marked deleted (the highest one a delete keeps, for the sequence number).
        .filter(row -> !row.deleted() && row.sequenceNumber() >= fromSequenceNr && row.sequenceNumber() <= toSequenceNr)
        .limit(max)
        .map(row -> PekkoSerialization$.MODULE$.fromRow(serialization, row))
        .toList());
  }

  private <T> CompletionStage<T> read(Function<Connection, T> query) {
    return JournalSql.call(db, query);
  }

  /** The recovery reads' batching, for tests. */
  RecoveryReads recoveries() {
    return recoveries;
  }

  @Override
  public Future<BoxedUnit> writeJournalRows(Seq<Tuple2<JournalPekkoSerializationRow, Set<String>>> batch) {
    List<Tuple2<JournalPekkoSerializationRow, Set<String>>> rows = new ArrayList<>(CollectionConverters.asJava(batch));
    // As the plugin does: within a batch an entity's events go in sequence order, so their ordering values rise with
    // it.
    rows.sort(Comparator.comparingLong(row -> row._1().sequenceNumber()));
    return JournalSql.run(db, SimpleJdbcAction.apply(ctx -> {
      write(ctx.connection(), rows);
      return BoxedUnit.UNIT;
    }));
  }

  private void write(Connection c, List<Tuple2<JournalPekkoSerializationRow, Set<String>>> rows) {
    boolean autoCommit = true;
    try {
      autoCommit = c.getAutoCommit();
      c.setAutoCommit(false);
      try (PreparedStatement events = c.prepareStatement(insertEvent)) {
        for (var row : rows) {
          bind(events, row._1());
          events.addBatch();
        }
        events.executeBatch();
      }
      try (PreparedStatement tags = c.prepareStatement(insertTag)) {
        int count = 0;
        for (var row : rows) {
          for (String tag : CollectionConverters.asJava(row._2())) {
            tags.setString(1, tag);
            tags.setString(2, row._1().persistenceId());
            tags.setLong(3, row._1().sequenceNumber());
            tags.addBatch();
            count++;
          }
        }
        if (count > 0) {
          tags.executeBatch();
        }
      }
      c.commit();
    } catch (SQLException | RuntimeException e) {
      rollback(c, e);
      throw e instanceof RuntimeException r ? r : JournalWriteException.of((SQLException) e);
    } finally {
      try {
        c.setAutoCommit(autoCommit);
      } catch (SQLException ignored) {
        // The pool resets or discards a connection it cannot restore; the write's outcome is already decided.
      }
    }
  }

  private static void bind(PreparedStatement ps, JournalPekkoSerializationRow row) throws SQLException {
    ps.setBoolean(1, row.deleted());
    ps.setString(2, row.persistenceId());
    ps.setLong(3, row.sequenceNumber());
    ps.setString(4, row.writer());
    ps.setLong(5, row.writeTimestamp());
    ps.setString(6, row.adapterManifest());
    ps.setBytes(7, row.eventPayload());
    ps.setInt(8, row.eventSerId());
    ps.setString(9, row.eventSerManifest());
    if (row.metaPayload().isDefined()) {
      ps.setBytes(10, row.metaPayload().get());
    } else {
      ps.setNull(10, Types.BINARY);
    }
    if (row.metaSerId().isDefined()) {
      ps.setInt(11, ((Number) row.metaSerId().get()).intValue());
    } else {
      ps.setNull(11, Types.INTEGER);
    }
    ps.setString(12, row.metaSerManifest().isDefined() ? row.metaSerManifest().get() : null);
  }

  private static void rollback(Connection c, Exception cause) {
    try {
      c.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  /** A failed batch; the plugin fails every write of the batch with it, as it does for its own inserts. */
  static final class JournalWriteException extends RuntimeException {
    private JournalWriteException(SQLException cause) {
      super(cause.getMessage(), cause);
    }

    /**
     * The database's own error, not the batch's wrapper: PostgreSQL's driver names the failed batch entry with its
     * parameters, which would put an event's payload (a job's spec) into the log.
     */
    static JournalWriteException of(SQLException e) {
      return new JournalWriteException(e instanceof BatchUpdateException batch && batch.getNextException() != null
          ? batch.getNextException() : e);
    }
  }
}
