package warmgate.index;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import warmgate.job.JobStatus;
import warmgate.job.Priority;
import warmgate.request.JobSummary;

/**
 * The SQL of {@code job_index} (schema/h2.sql, schema/postgres.sql), for the projection's writes and the
 * index's reads. Plain unquoted names, so the same statements run on H2 and PostgreSQL.
 */
final class JobIndexTable {
  /** Column sizes of the schema; longer text is cut rather than failing the projection forever. */
  static final int MAX_NAME = 255;
  static final int MAX_OUTPUT = 2048;
  static final int MAX_ERROR = 4096;

  static final String ROW_COLUMNS = "job_id, status, endpoint, owner, attempts, created_at, updated_at, output, error";

  /** Ids per SELECT ... IN (...) of {@link #loadAll}. */
  static final int LOAD_CHUNK = 500;

  private static final String UPDATE = "UPDATE job_index SET status = ?, endpoint = ?, owner = ?, attempts = ?, "
      + "created_at = ?, updated_at = ?, output = ?, error = ?, callbacks = ?, report_owed = ?, callback_owed = ?, "
          + "has_work = ?, "
      + "last_seq_nr = ?, priority = ? WHERE job_id = ?";

  private JobIndexTable() {}

  /** A job's row as the projection keeps it: the fold's summary and the newest event folded into it. */
  record Stored(JobSummary summary, long lastSeqNr) {}

  /** The stored rows of {@code jobIds} that exist, by job id, in one query per {@value #LOAD_CHUNK} ids. */
  static Map<String, Stored> loadAll(Connection c, Collection<String> jobIds) throws SQLException {
    Map<String, Stored> found = new HashMap<>();
    List<String> ids = List.copyOf(jobIds);
    for (int from = 0; from < ids.size(); from += LOAD_CHUNK) {
      List<String> chunk = ids.subList(from, Math.min(ids.size(), from + LOAD_CHUNK));
      String in = String.join(", ", Collections.nCopies(chunk.size(), "?"));
      try (PreparedStatement ps = c.prepareStatement("SELECT " + ROW_COLUMNS
          + ", callbacks, report_owed, callback_owed, last_seq_nr, priority FROM job_index WHERE job_id IN (" + in
          + ")")) {
        for (int i = 0; i < chunk.size(); i++) {
          ps.setString(i + 1, chunk.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Stored stored = stored(rs);
            found.put(stored.summary().jobId(), stored);
          }
        }
      }
    }
    return found;
  }

  /** New rows, sent to the database as one batch. */
  static void insertAll(Connection c, List<Stored> rows) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO job_index (status, endpoint, owner, attempts, created_at, updated_at, output, error, "
        + "callbacks, report_owed, callback_owed, has_work, last_seq_nr, priority, job_id) "
        + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      for (Stored row : rows) {
        bind(ps, row.summary(), row.lastSeqNr());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /** Changed rows, sent to the database as one batch. */
  static void updateAll(Connection c, List<Stored> rows) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(UPDATE)) {
      for (Stored row : rows) {
        bind(ps, row.summary(), row.lastSeqNr());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  private static void bind(PreparedStatement ps, JobSummary s, long seqNr) throws SQLException {
    ps.setString(1, s.status().name());
    ps.setString(2, cut(s.endpoint(), MAX_NAME));
    ps.setString(3, cut(s.owner(), MAX_NAME));
    ps.setInt(4, s.attempts());
    ps.setObject(5, timestamp(s.createdAt()));
    ps.setObject(6, timestamp(s.updatedAt()));
    ps.setString(7, cut(s.output(), MAX_OUTPUT));
    ps.setString(8, cut(s.error(), MAX_ERROR));
    ps.setBoolean(9, s.callbacks());
    ps.setBoolean(10, s.reportOwed());
    ps.setBoolean(11, s.callbackOwed());
    ps.setBoolean(12, s.hasWork());
    ps.setLong(13, seqNr);
    ps.setString(14, s.priority().word());
    ps.setString(15, s.jobId());
  }

  private static Stored stored(ResultSet rs) throws SQLException {
    JobRow row = row(rs);
    var summary = new JobSummary(row.jobId(), row.status(), row.endpoint(), row.owner(), row.attempts(),
        row.createdAt(),
        row.updatedAt(), row.output(), row.error(), rs.getBoolean("callbacks"), rs.getBoolean("report_owed"),
        rs.getBoolean("callback_owed"), priority(rs));
    return new Stored(summary, rs.getLong("last_seq_nr"));
  }

  static JobRow row(ResultSet rs) throws SQLException {
    return new JobRow(rs.getString("job_id"), JobStatus.valueOf(rs.getString("status")), rs.getString("endpoint"),
        rs.getString("owner"), rs.getInt("attempts"), instant(rs, "created_at"), instant(rs, "updated_at"),
        rs.getString("output"), rs.getString("error"));
  }

  /** Rows written before priorities existed have none: their jobs are interactive. */
  static Priority priority(ResultSet rs) throws SQLException {
    String word = rs.getString("priority");
    return word == null ? Priority.INTERACTIVE : Priority.parse(word);
  }

  /** Microseconds, what PostgreSQL keeps: H2 and PostgreSQL then store, list and page on the same instants. */
  static OffsetDateTime timestamp(Instant at) {
    return OffsetDateTime.ofInstant(at.truncatedTo(ChronoUnit.MICROS), ZoneOffset.UTC);
  }

  static Instant instant(ResultSet rs, String column) throws SQLException {
    return rs.getObject(column, OffsetDateTime.class).toInstant();
  }

  private static String cut(String text, int max) {
    return text == null || text.length() <= max ? text : text.substring(0, max - 1) + "…";
  }
}
