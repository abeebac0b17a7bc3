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

  @Override
  public CompletionStage<Map<String, Long>> journal() {
    String in = String.join(", ", tags.stream().map(t -> "?").toList());
    return positions("SELECT \"tag\", MAX(\"event_id\") FROM \"event_tag\" WHERE \"tag\" IN (" + in
        + ") GROUP BY \"tag\"", tags);
  }

  @Override
  public CompletionStage<Map<String, Long>> projected() {
    // Offsets of eventsByTag on this journal are Sequence offsets, stored as the number itself.
    return positions("SELECT \"projection_key\", \"current_offset\" FROM \"pekko_projection_offset_store\" WHERE \"p"
        + "rojection_name\" = ?",
        List.of(JobIndexProjection.NAME));
  }

  private CompletionStage<Map<String, Long>> positions(String sql, List<String> args) {
    return CompletableFuture.supplyAsync(() -> {
      try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
        for (int i = 0; i < args.size(); i++) {
          ps.setString(i + 1, args.get(i));
        }
        Map<String, Long> positions = new HashMap<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            positions.put(rs.getString(1), Long.parseLong(rs.getString(2).trim()));
          }
        }
        return positions;
      } catch (SQLException e) {
        throw new CompletionException(e);
      }
    }, blocking);
  }
}
