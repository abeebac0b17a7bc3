package warmgate.index;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import javax.sql.DataSource;
import warmgate.job.JobStatus;

/** {@link JobIndex} read from the {@code job_index} table with plain JDBC, on a blocking executor. */
public final class JdbcJobIndex implements JobIndex {
  private final DataSource pool;
  private final Executor blocking;

  public JdbcJobIndex(DataSource pool, Executor blocking) {
    this.pool = pool;
    this.blocking = blocking;
  }

  /** A page's query: its SQL and the values of its placeholders, in order. */
  record Listing(String sql, List<Object> args) {
    void bind(PreparedStatement ps) throws SQLException {
      for (int i = 0; i < args.size(); i++) {
        ps.setObject(i + 1, args.get(i));
      }
    }
  }

  /**
   * The query for one page of {@code query}, newest first. The cursor is a row comparison, which PostgreSQL reads as
   * where to start in the {@code (…, created_at, job_id)} indexes; written as {@code created_at < ? OR (created_at = ?
   * AND job_id < ?)} it could only filter, so each page read every row of the pages before it (442 ms for a page
   * 900 000 jobs deep, against 0.4 ms now: docs/benchmarks.md, section 10).
   */
  static Listing listing(JobQuery query) {
    StringBuilder sql = new StringBuilder("SELECT " + JobIndexTable.ROW_COLUMNS + " FROM job_index WHERE 1 = 1");
    List<Object> args = new ArrayList<>();
    if (!query.statuses().isEmpty()) {
      sql.append(" AND status IN (").append(String.join(", ",
          query.statuses().stream().map(s -> "?").toList())).append(")");
      query.statuses().stream().sorted().forEach(s -> args.add(s.name()));
    }
    if (query.endpoint() != null) {
      sql.append(" AND endpoint = ?");
      args.add(query.endpoint());
    }
    if (query.owner() != null) {
      sql.append(" AND owner = ?");
      args.add(query.owner());
    }
    if (query.from() != null) {
      sql.append(" AND created_at >= ?");
      args.add(JobIndexTable.timestamp(query.from()));
    }
    if (query.to() != null) {
      sql.append(" AND created_at < ?");
      args.add(JobIndexTable.timestamp(query.to()));
    }
    if (query.after() != null) {
      sql.append(" AND (created_at, job_id) < (?, ?)");
      args.add(JobIndexTable.timestamp(query.after().createdAt()));
      args.add(query.after().jobId());
    }
    // One more than asked: whether it exists says whether there is a next page.
    sql.append(" ORDER BY created_at DESC, job_id DESC LIMIT ?");
    args.add(query.limit() + 1);
    return new Listing(sql.toString(), List.copyOf(args));
  }

  @Override
  public CompletionStage<JobPage> list(JobQuery query) {
    Listing listing = listing(query);
    return query(c -> {
      List<JobRow> rows = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(listing.sql())) {
        listing.bind(ps);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            rows.add(JobIndexTable.row(rs));
          }
        }
      }
      if (rows.size() <= query.limit()) {
        return new JobPage(rows, null);
      }
      List<JobRow> page = rows.subList(0, query.limit());
      JobRow last = page.get(page.size() - 1);
      return new JobPage(List.copyOf(page), new JobQuery.Cursor(last.createdAt(), last.jobId()).encode());
    });
  }

  @Override
  public CompletionStage<Optional<JobRow>> find(String jobId) {
    return query(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT " + JobIndexTable.ROW_COLUMNS
          + " FROM job_index WHERE job_id = ?")) {
        ps.setString(1, jobId);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(JobIndexTable.row(rs)) : Optional.empty();
        }
      }
    });
  }

  @Override
  public CompletionStage<Map<JobStatus, Long>> countByStatus() {
    return query(c -> {
      Map<JobStatus, Long> counts = new EnumMap<>(JobStatus.class);
      for (JobStatus status : JobStatus.values()) {
        counts.put(status, 0L);
      }
      try (PreparedStatement ps = c.prepareStatement("SELECT status, COUNT(*) FROM job_index GROUP BY status");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          counts.put(JobStatus.valueOf(rs.getString(1)), rs.getLong(2));
        }
      }
      return counts;
    });
  }

  @Override
  public CompletionStage<List<Work>> withWork(String afterJobId, int limit) {
    return query(c -> {
      String sql = "SELECT job_id, status, endpoint, owner, priority, updated_at FROM job_index WHERE has_work"
          + (afterJobId == null ? ""
          : " AND job_id > ?")
          + " ORDER BY job_id LIMIT ?";
      List<Work> ids = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        int i = 1;
        if (afterJobId != null) {
          ps.setString(i++, afterJobId);
        }
        ps.setInt(i, limit);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            ids.add(new Work(rs.getString(1), JobStatus.valueOf(rs.getString(2)), rs.getString(3), rs.getString(4),
                JobIndexTable.priority(rs), JobIndexTable.instant(rs, "updated_at")));
          }
        }
      }
      return ids;
    });
  }

  interface Query<T> {
    T run(Connection connection) throws SQLException;
  }

  private <T> CompletionStage<T> query(Query<T> query) {
    return CompletableFuture.supplyAsync(() -> {
      try (Connection c = pool.getConnection()) {
        c.setReadOnly(true);
        return query.run(c);
      } catch (SQLException e) {
        throw new CompletionException(e);
      }
    }, blocking);
  }
}
