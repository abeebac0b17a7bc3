package warmgate.persistence;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.persistence.jdbc.config.EventJournalTableColumnNames;
import org.apache.pekko.persistence.jdbc.journal.dao.JournalTables.JournalPekkoSerializationRow;
import scala.Option;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;
import slick.dbio.DBIOAction;
import slick.dbio.NoStream;
import slick.jdbc.JdbcBackend;
import slick.jdbc.SimpleJdbcAction;

/**
 * What Warmgate's own journal queries share with each other: the plugin's table and column names as configured,
 * a journal row read back in the plugin's form, and a JDBC call run on the plugin's database.
 */
final class JournalSql {
  private JournalSql() {}

  static String qualified(Option<String> schema, String table) {
    return schema.isDefined() && !schema.get().isBlank() ? quoted(schema.get()) + "." + quoted(table) : quoted(table);
  }

  static String quoted(String name) {
    return '"' + name + '"';
  }

  /** The journal's columns in {@link #row}'s order, quoted, each prefixed with {@code alias} (none if empty). */
  static List<String> rowColumns(EventJournalTableColumnNames e, String alias) {
    String a = alias.isEmpty() ? "" : alias + ".";
    return List.of(e.ordering(), e.deleted(), e.persistenceId(), e.sequenceNumber(), e.writer(), e.writeTimestamp(),
        e.adapterManifest(), e.eventPayload(), e.eventSerId(), e.eventSerManifest(), e.metaPayload(), e.metaSerId(),
        e.metaSerManifest()).stream().map(c -> a + quoted(c)).toList();
  }

  /** The row at the result's cursor, whose first columns are {@link #rowColumns}. */
  static JournalPekkoSerializationRow row(ResultSet rs) throws SQLException {
    byte[] meta = rs.getBytes(11);
    int metaSerId = rs.getInt(12);
    boolean noMetaSerId = rs.wasNull();
    return new JournalPekkoSerializationRow(rs.getLong(1), rs.getBoolean(2), rs.getString(3), rs.getLong(4),
        rs.getString(5), rs.getLong(6), rs.getString(7), rs.getBytes(8), rs.getInt(9), rs.getString(10),
        Option.apply(meta), noMetaSerId ? Option.empty() : Option.<Object>apply(metaSerId),
        Option.apply(rs.getString(13)));
  }

  /** Runs {@code call} on a connection of the plugin's pool, on the plugin's database threads. */
  static <T> CompletionStage<T> call(JdbcBackend.JdbcDatabaseDef db, Function<Connection, T> call) {
    return FutureConverters.asJava(run(db, SimpleJdbcAction.apply(ctx -> call.apply(ctx.connection()))));
  }

  /**
   * Slick's {@code run} takes an action whose effect type is a subtype of Nothing, which Scala's covariance allows for
   * any action and Java's generics cannot express: the raw call is what the Scala compiler would check.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static <T> Future<T> run(JdbcBackend.JdbcDatabaseDef db, DBIOAction<T, NoStream, ?> action) {
    return db.run((DBIOAction) action);
  }
}
