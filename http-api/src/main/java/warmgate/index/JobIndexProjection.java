package warmgate.index;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.GroupedProjection;
import org.apache.pekko.projection.javadsl.SourceProvider;
import org.apache.pekko.projection.jdbc.javadsl.JdbcHandler;
import org.apache.pekko.projection.jdbc.javadsl.JdbcProjection;
import warmgate.request.Request;
import warmgate.request.RequestEntity;

/**
 * Folds the jobs' events into {@code job_index}: one projection per tag of {@link Request#TAGS}, each run
 * exactly once in the cluster by a sharded daemon process. Events are handled in groups (up to
 * {@code read-side.projection-group-size} events, or what arrived within {@code projection-group-within}); exactly
 * once: the rows a group changes and the projection's offset are written in one transaction, so a restart
 * resumes after the last group that was committed, and no event is applied twice.
 */
public final class JobIndexProjection {
  /** The projection's name in the offset store; its key is the tag. */
  public static final String NAME = "job-index";

  private JobIndexProjection() {}

  public static void init(ActorSystem<?> system, DataSource pool, ReadSideSettings.Grouping grouping) {
    ShardedDaemonProcess.get(system).init(
        ProjectionBehavior.Command.class,
        NAME,
        RequestEntity.TAGS.size(),
        i -> ProjectionBehavior.create(projection(system, pool, RequestEntity.TAGS.get(i), grouping)),
        ShardedDaemonProcessSettings.create(system),
        Optional.of(ProjectionBehavior.stopMessage()));
  }

  static GroupedProjection<Offset, EventEnvelope<Request.Event>> projection(ActorSystem<?> system, DataSource pool,
      String tag,
      ReadSideSettings.Grouping grouping) {
    return projection(system, pool, tag, grouping, Handler::new);
  }

  /** @param handler a test's wrapper around {@link Handler} */
  static GroupedProjection<Offset, EventEnvelope<Request.Event>> projection(ActorSystem<?> system, DataSource pool,
      String tag,
      ReadSideSettings.Grouping grouping, Supplier<JdbcHandler<List<EventEnvelope<Request.Event>>,
          PooledSession>> handler) {
    SourceProvider<Offset, EventEnvelope<Request.Event>> events =
        EventSourcedProvider.eventsByTag(system, JdbcReadJournal.Identifier(), tag);
    return JdbcProjection.groupedWithin(ProjectionId.of(NAME, tag), events, () -> new PooledSession(pool), handler,
        system)
        .withGroup(grouping.size(), grouping.within());
  }

  /** Applies one group of events to their jobs' rows, inside the projection's transaction. */
  static class Handler extends JdbcHandler<List<EventEnvelope<Request.Event>>, PooledSession> {
    @Override
    public void process(PooledSession session, List<EventEnvelope<Request.Event>> envelopes) throws Exception {
      List<IndexBatch.Item> items = new ArrayList<>(envelopes.size());
      for (EventEnvelope<Request.Event> envelope : envelopes) {
        items.add(new IndexBatch.Item(envelope.persistenceId(), envelope.sequenceNr(), envelope.event()));
      }
      session.withConnection(c -> {
        IndexBatch.apply(c, items);
        return null;
      });
    }
  }

  /** Folds {@code event} (the job's event {@code seqNr}) into its row: a group of one. */
  static void apply(Connection c, String persistenceId, long seqNr, Object event) throws SQLException {
    IndexBatch.apply(c, List.of(new IndexBatch.Item(persistenceId, seqNr, event)));
  }
}
