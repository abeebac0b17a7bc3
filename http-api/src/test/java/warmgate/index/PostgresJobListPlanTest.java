package warmgate.index;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import warmgate.job.JobStatus;

/**
 * How PostgreSQL runs a page of {@code GET /v1/jobs} deep in a large index: from the cursor, not through every row
 * before it. Read from the plan, since a time would only say so on one machine (docs/benchmarks.md, section 10, has
 * the times on a million jobs). Its own database: 20 000 jobs would slow the other index tests' scans.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresJobListPlanTest {
  private static final Instant T = Instant.parse("2026-12-07T10:00:00Z");
  private static final int JOBS = 20_000;

  private TestDatabase db;

  @BeforeAll
  void fill() throws Exception {
    db = TestDatabase.postgres(Files.createTempDirectory("warmgate-index-plan"));
    new IndexRows(db.pool).job("seed", "bulk", "gen3d", T, JobStatus.QUEUED);
    try (Connection c = db.pool.getConnection(); Statement s = c.createStatement()) {
      // Copies of the folded row, one millisecond apart, so the table has the shape of a real backlog.
      List<String> columns = new ArrayList<>();
      try (ResultSet rs = s.executeQuery("SELECT column_name FROM information_schema.columns WHERE table_name = "
          + "'job_index' ORDER BY ordinal_position")) {
        while (rs.next()) {
          columns.add(rs.getString(1));
        }
      }
      List<String> values = columns.stream().map(column -> switch (column) {
        case "job_id" -> "'job-' || lpad(g::text, 6, '0')";
        case "created_at" -> "created_at + g * interval '1 millisecond'";
        default -> column;
      }).toList();
      s.executeUpdate("INSERT INTO job_index (" + String.join(", ", columns) + ") SELECT " + String.join(", ", values)
          + " FROM job_index, generate_series(1, " + JOBS + ") g WHERE job_id = 'seed'");
      s.execute("ANALYZE job_index");
    }
  }

  @AfterAll
  void drop() {
    db.close();
  }

  private String plan(JobQuery query) throws Exception {
    JdbcJobIndex.Listing listing = JdbcJobIndex.listing(query);
    try (Connection c = db.pool.getConnection();
        PreparedStatement ps = c.prepareStatement("EXPLAIN " + listing.sql())) {
      listing.bind(ps);
      StringBuilder plan = new StringBuilder();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          plan.append(rs.getString(1)).append('\n');
        }
      }
      return plan.toString();
    }
  }

  @Test
  void aPageAfterACursorStartsAtTheCursorInAnIndex() throws Exception {
    JobQuery.Cursor deep = new JobQuery.Cursor(T.plusMillis(JOBS / 2), "job-0" + (JOBS / 2));

    String all = plan(JobQuery.all().withLimit(500).after(deep));
    String queued = plan(JobQuery.all().withStatuses(Set.of(JobStatus.QUEUED)).withLimit(500).after(deep));

    assertThat(all).as(all).contains("Index Cond: (ROW(created_at, (job_id)::text) < ROW(");
    assertThat(queued).as(queued).contains("Index Cond:").contains("ROW(created_at, (job_id)::text) < ROW(");
  }
}
