package warmgate.index;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import javax.sql.DataSource;
import warmgate.request.RequestEntity;

/**
 * {@link IndexProgress} from the tables themselves: pekko-persistence-jdbc's {@code event_tag} (whose
 * {@code event_id} is the journal's ordering, the offset eventsByTag hands out) and pekko-projection-jdbc's
 * offset store. Quoted lowercase names: that is how H2 holds them, and PostgreSQL reads them the same.
 */
public final class JdbcIndexProgress implements IndexProgress {
  private final DataSource pool;
  private final Executor blocking;
  private final List<String> tags;

  public JdbcIndexProgress(DataSource pool, Executor blocking) {
    this.pool = pool;
    this.blocking = blocking;
    this.tags = RequestEntity.TAGS;
  }

  /**
   * One query per tag: the maximum of one tag is one step down the index on ({@code tag}, {@code event_id}), where
   * a {@code GROUP BY} over the tags read every row of them (0.3 s at two million rows, on every run of the waker).
   * A tag with no event yet is left out, as the projections have no offset for it either.
   */
  @Override
  public CompletionStage<Map<String, Long>> journal() {
    return read(c -> {
      Map<String, Long> positions = new HashMap<>();
      String sql = "SELECT MAX(\"event_id\") FROM \"event_tag\" WHERE \"tag\" = ?";
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (String tag : tags) {
          ps.setString(1, tag);
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next() && rs.getObject(1) != null) {
              positions.put(tag, rs.getLong(1));
            }
          }
        }
      }
      return positions;
    });
  }

  @Override
  public CompletionStage<Map<String, Long>> projected() {
    // Offsets of eventsByTag on this journal are Sequence offsets, stored as the number itself.
    return positions("SELECT \"projection_key\", \"current_offset\" FROM \"pekko_projection_offset_store\" WHERE \"p"
        + "rojection_name\" = ?",
        List.of(JobIndexProjection.NAME));
  }

  private CompletionStage<Map<String, Long>> positions(String sql, List<String> args) {
    return read(c -> {
      Map<String, Long> positions = new HashMap<>();
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (int i = 0; i < args.size(); i++) {
          ps.setString(i + 1, args.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            positions.put(rs.getString(1), Long.parseLong(rs.getString(2).trim()));
          }
        }
      }
      return positions;
    });
  }

  private interface Read {
    Map<String, Long> run(Connection c) throws SQLException;
  }

  /** A read on a pooled connection, off the caller's thread. */
  private CompletionStage<Map<String, Long>> read(Read read) {
    return CompletableFuture.supplyAsync(() -> {
      try (Connection c = pool.getConnection()) {
        return read.run(c);
      } catch (SQLException e) {
        throw new CompletionException(e);
      }
    }, blocking);
  }
}
