package warmgate.audit;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import warmgate.persistence.DatabaseSettings;

/**
 * The rows of {@code job_index} as the audit compares them, read with plain SQL on one connection of the CLI's
 * own (the table is kept by the read side, {@link warmgate.index.JobIndexProjection}; a node reads it through
 * {@link warmgate.index.JobIndex}). Its name and
 * columns are looked up in the database's catalogue first, so a table created with quoted lower-case names
 * (as the journal's are on H2) is found as well as one created unquoted.
 */
final class IndexedJobs implements AutoCloseable {
  static final String TABLE = "job_index";
  private static final List<String> COLUMNS =
      List.of("job_id", "status", "endpoint", "owner", "attempts", "created_at", "updated_at", "last_seq_nr");

  /** One row, as far as the audit compares it. */
  record Row(String jobId, String status, String endpoint, String owner, int attempts, Instant createdAt,
      Instant updatedAt,
      long lastSeqNr) {}

  private final Connection connection;
  private final PreparedStatement find;
  private final String allIds;

  private IndexedJobs(Connection connection, String table, Map<String, String> columns) throws SQLException {
    this.connection = connection;
    String select = String.join(", ", COLUMNS.stream().map(c -> quote(columns.get(c))).toList());
    this.find = connection.prepareStatement("SELECT " + select + " FROM " + table + " WHERE "
        + quote(columns.get("job_id")) + " = ?");
    this.allIds = "SELECT " + quote(columns.get("job_id")) + " FROM " + table;
  }

  /** @throws IllegalStateException when the table or one of its columns is missing */
  static IndexedJobs open(DatabaseSettings database) throws SQLException {
    Connection connection = DriverManager.getConnection(database.url(), database.user(), database.password());
    try {
      DatabaseMetaData catalogue = connection.getMetaData();
      String schema = null;
      String table = null;
      try (ResultSet tables = catalogue.getTables(null, null, null, null)) {
        while (tables.next()) {
          String name = tables.getString("TABLE_NAME");
          String inSchema = tables.getString("TABLE_SCHEM");
          boolean current = inSchema != null && inSchema.equalsIgnoreCase(connection.getSchema());
          if (name.equalsIgnoreCase(TABLE) && (table == null || current)) {
            table = name;
            schema = inSchema;
          }
        }
      }
      if (table == null) {
        throw new IllegalStateException("there is no " + TABLE + " table in " + database.url()
            + "; a node of this version creates it and fills it from the journal");
      }
      Map<String, String> columns = new HashMap<>();
      try (ResultSet found = catalogue.getColumns(null, schema, table, null)) {
        while (found.next()) {
          String name = found.getString("COLUMN_NAME");
          columns.put(name.toLowerCase(Locale.ROOT), name);
        }
      }
      for (String column : COLUMNS) {
        if (!columns.containsKey(column)) {
          throw new IllegalStateException(TABLE + " has no column " + column + " (it has " + columns.keySet() + ")");
        }
      }
      String qualified = (schema == null ? "" : quote(schema) + ".") + quote(table);
      return new IndexedJobs(connection, qualified, columns);
    } catch (SQLException | RuntimeException e) {
      connection.close();
      throw e;
    }
  }

  Optional<Row> find(String jobId) throws SQLException {
    find.setString(1, jobId);
    try (ResultSet row = find.executeQuery()) {
      if (!row.next()) {
        return Optional.empty();
      }
      return Optional.of(new Row(row.getString(1), row.getString(2), row.getString(3), row.getString(4), row.getInt(5),
          instant(row, 6), instant(row, 7), row.getLong(8)));
    }
  }

  /** Every job id in the table, read as a stream of rows rather than into memory. */
  void forEachJobId(Consumer<String> each) throws SQLException {
    boolean autoCommit = connection.getAutoCommit();
    // PostgreSQL streams a result set only inside a transaction with a fetch size; H2 ignores both.
    connection.setAutoCommit(false);
    try (Statement query = connection.createStatement()) {
      query.setFetchSize(1000);
      try (ResultSet rows = query.executeQuery(allIds)) {
        while (rows.next()) {
          each.accept(rows.getString(1));
        }
      }
    } finally {
      connection.commit();
      connection.setAutoCommit(autoCommit);
    }
  }

  private static Instant instant(ResultSet row, int column) throws SQLException {
    OffsetDateTime at = row.getObject(column, OffsetDateTime.class);
    return at == null ? null : at.toInstant();
  }

  private static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }

  @Override
  public void close() throws SQLException {
    connection.close();
  }
}
