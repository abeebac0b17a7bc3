package warmgate.index;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.ExactlyOnceProjection;
import org.apache.pekko.projection.javadsl.SourceProvider;
import org.apache.pekko.projection.jdbc.javadsl.JdbcHandler;
import org.apache.pekko.projection.jdbc.javadsl.JdbcProjection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.request.JobSummary;
import warmgate.request.Request;

/**
 * Folds the jobs' events into {@code job_index}: one projection per tag of {@link Request#TAGS}, each run
 * exactly once in the cluster by a sharded daemon process. Exactly-once: the rows an event changes and the
 * projection's offset are written in one transaction, so a restart resumes after the last event whose
 * change was committed, and no event is applied twice.
 */
public final class JobIndexProjection {
  private static final Logger log = LoggerFactory.getLogger(JobIndexProjection.class);

  /** The projection's name in the offset store; its key is the tag. */
  public static final String NAME = "job-index";

  private JobIndexProjection() {}

  public static void init(ActorSystem<?> system, DataSource pool) {
    ShardedDaemonProcess.get(system).init(
        ProjectionBehavior.Command.class,
        NAME,
        Request.TAGS.size(),
        i -> ProjectionBehavior.create(projection(system, pool, Request.TAGS.get(i))),
        ShardedDaemonProcessSettings.create(system),
        Optional.of(ProjectionBehavior.stopMessage()));
  }

  static ExactlyOnceProjection<Offset, EventEnvelope<Request.Event>> projection(ActorSystem<?> system, DataSource pool, String tag) {
    return projection(system, pool, tag, Handler::new);
  }

  /** @param handler a test's wrapper around {@link Handler} */
  static ExactlyOnceProjection<Offset, EventEnvelope<Request.Event>> projection(ActorSystem<?> system, DataSource pool, String tag,
      Supplier<JdbcHandler<EventEnvelope<Request.Event>, PooledSession>> handler) {
    SourceProvider<Offset, EventEnvelope<Request.Event>> events =
        EventSourcedProvider.eventsByTag(system, JdbcReadJournal.Identifier(), tag);
    return JdbcProjection.exactlyOnce(ProjectionId.of(NAME, tag), events, () -> new PooledSession(pool), handler, system);
  }

  /** Applies one event to its job's row, inside the projection's transaction. */
  static class Handler extends JdbcHandler<EventEnvelope<Request.Event>, PooledSession> {
    @Override
    public void process(PooledSession session, EventEnvelope<Request.Event> envelope) throws Exception {
      session.withConnection(c -> {
        apply(c, envelope.persistenceId(), envelope.sequenceNr(), envelope.event());
        return null;
      });
    }
  }

  /**
   * Folds {@code event} (the job's event {@code seqNr}) into its row. What the fold does not understand is
   * logged and skipped, never a reason to stop the projection: one odd event must not freeze every list.
   */
  static void apply(Connection c, String persistenceId, long seqNr, Object event) throws SQLException {
    String jobId = PersistenceId.extractEntityId(persistenceId);
    if (!(event instanceof Request.Event jobEvent)) {
      log.warn("Job index: skipped {} #{}, not a job event: {}", persistenceId, seqNr, event == null ? null : event.getClass().getName());
      return;
    }
    Optional<JobIndexTable.Stored> stored = JobIndexTable.load(c, jobId);
    if (stored.isPresent() && seqNr <= stored.get().lastSeqNr()) {
      log.debug("Job index: {} #{} is in the row already", persistenceId, seqNr);
      return;
    }
    if (jobEvent instanceof Request.JobSubmitted submitted && stored.isEmpty()) {
      JobIndexTable.insert(c, JobSummary.submitted(submitted), seqNr);
      return;
    }
    if (stored.isEmpty()) {
      log.warn("Job index: skipped {} #{} ({}): the job has no row, its JobSubmitted was not seen", persistenceId, seqNr,
          jobEvent.getClass().getSimpleName());
      return;
    }
    Optional<JobSummary> next = stored.get().summary().after(jobEvent);
    if (next.isEmpty()) {
      log.warn("Job index: skipped {} #{}: the fold does not know {}", persistenceId, seqNr, jobEvent.getClass().getSimpleName());
      return;
    }
    JobIndexTable.update(c, next.get(), seqNr);
  }
}
