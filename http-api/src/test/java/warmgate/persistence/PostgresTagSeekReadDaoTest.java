package warmgate.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import warmgate.index.TestDatabase;

// Real PostgreSQL (a fresh database on 127.0.0.1:5432), real journal plugin; no cluster.
class PostgresTagSeekReadDaoTest extends TagSeekReadDaoContract {
  /** pekko-persistence-jdbc 1.1.1's events-by-tag query as PostgreSQL received it (pg_stat_statements). */
  private static final String PLUGINS = "select x2.x3, x2.x4, x2.x5, x2.x6, x2.x7, x2.x8, x2.x9, x2.x10, x2.x11, "
      + "x2.x12, x2.x13, x2.x14, x2.x15 from (select \"deleted\" as x4, \"meta_ser_id\" as x14, \"meta_ser_manifest\" "
      + "as x15, \"sequence_number\" as x6, \"writer\" as x7, \"event_ser_manifest\" as x12, "
      + "\"write_timestamp\" as x8, "
      + "\"persistence_id\" as x5, \"adapter_manifest\" as x9, \"ordering\" as x3, \"event_payload\" as x10, "
      + "\"event_ser_id\" as x11, \"meta_payload\" as x13 from \"event_journal\" where \"deleted\" = ?) x2, "
      + "\"event_tag\" x16 where ((x16.\"tag\" = ?) and ((x2.x3 > ?) and (x2.x3 <= ?))) and (x2.x3 = x16.\"event_id\") "
      + "order by x2.x3 limit ?";
  private static final int EVENTS = 20_000;
  private static final int PAGE = 500;

  @Override
  TestDatabase database(Path dir) {
    return TestDatabase.postgres(dir);
  }

  /**
   * A page of a tag 15 000 events deep into a journal of four tags, as the job index's projections read it: the
   * scans of event_tag start at the offset instead of at the tag's first row. Read from the executed plan, since a
   * time would only say so on one machine (docs/benchmarks.md, section 10, has the times).
   */
  @Test
  void aPageDeepInTheJournalReadsTheTagFromItsOffset() throws Exception {
    long offset;
    try (Connection c = db.pool.getConnection(); Statement s = c.createStatement()) {
      s.executeUpdate("INSERT INTO event_journal (persistence_id, sequence_number, writer, write_timestamp, "
          + "event_ser_id, event_ser_manifest, event_payload) SELECT 'Request|plan-' || (g / 2), g % 2 + 1, 'w', 0, 4, "
          + "'', convert_to('payload ' || g, 'UTF8') FROM generate_series(1, " + EVENTS + ") g");
      s.executeUpdate("INSERT INTO event_tag (event_id, tag) SELECT ordering, 'plan-' || (ordering % 4) "
          + "FROM event_journal WHERE persistence_id LIKE 'Request|plan-%'");
      s.execute("ANALYZE event_journal");
      s.execute("ANALYZE event_tag");
      try (ResultSet rs = s.executeQuery("SELECT MIN(ordering) FROM event_journal WHERE persistence_id LIKE "
          + "'Request|plan-%'")) {
        rs.next();
        offset = rs.getLong(1) + 15_000;
      }
    }

    List<String> ours = tagScans(TagSeekReadDao.selectFor(readConfig), ps -> {
      ps.setString(1, "plan-1");
      ps.setLong(2, offset);
      ps.setLong(3, Long.MAX_VALUE);
      ps.setLong(4, offset);
      ps.setLong(5, Long.MAX_VALUE);
      ps.setLong(6, PAGE);
    });
    List<String> theirs = tagScans(PLUGINS, ps -> {
      ps.setBoolean(1, false);
      ps.setString(2, "plan-1");
      ps.setLong(3, offset);
      ps.setLong(4, Long.MAX_VALUE);
      ps.setLong(5, PAGE);
    });

    // Whichever index the planner takes (the tag's or the primary key), the offset is where its scan starts.
    assertThat(ours).as("how the plan reads event_tag").isNotEmpty()
        .allSatisfy(cond -> assertThat(cond).contains("event_id >"));
    assertThat(theirs).as("how the plan of the plugin's query reads event_tag").isNotEmpty()
        .noneSatisfy(cond -> assertThat(cond).contains("event_id >"));
  }

  interface Binder {
    void bind(PreparedStatement ps) throws Exception;
  }

  /**
   * How the executed plan reads event_tag: the index condition of each scan of the table or of one of its indexes
   * (empty for a scan without one, which reads the whole table).
   */
  private List<String> tagScans(String sql, Binder binder) throws Exception {
    try (Connection c = db.pool.getConnection();
        PreparedStatement ps = c.prepareStatement("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)) {
      binder.bind(ps);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        List<String> scans = new ArrayList<>();
        collect(new ObjectMapper().readTree(rs.getString(1)).get(0).get("Plan"), scans);
        return scans;
      }
    }
  }

  private static void collect(JsonNode node, List<String> scans) {
    String type = node.path("Node Type").asText();
    // A bitmap heap scan's condition is its index scan's, below it.
    if (!type.equals("Bitmap Heap Scan") && ("event_tag".equals(node.path("Relation Name").asText())
        || node.path("Index Name").asText().startsWith("event_tag"))) {
      scans.add(node.path("Index Cond").asText(""));
    }
    for (JsonNode child : node.path("Plans")) {
      collect(child, scans);
    }
  }
}
