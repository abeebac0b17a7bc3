package warmgate.persistence;

import com.typesafe.config.Config;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.jdbc.journal.JdbcAsyncWriteJournal;
import scala.Function1;
import scala.Tuple2;
import scala.concurrent.Future;
import scala.concurrent.Future$;
import scala.runtime.BoxedUnit;
import scala.util.Try;

/**
 * pekko-persistence-jdbc's journal, replaying an entity's events without a stream when its recovery's first ask read
 * them already ({@link BatchingJournalDao#keptEvents}). The plugin replays every recovery through a stream of its
 * own, materialized for the entity's two or three events: with jobs parked as soon as they queue, every job that runs
 * recovers once more, and the stream was one piece of that recovery's cost in the profile, about 4 % of what a parked
 * job's run adds (docs/benchmarks.md, section 10). The events replayed, and their order, are the plugin's; any other
 * replay is the plugin's own.
 *
 * <p>Configured as {@code jdbc-journal.class} (persistence.conf); Pekko constructs it with the plugin's config.
 */
public final class BatchingJournal extends JdbcAsyncWriteJournal {

  public BatchingJournal(Config config) {
    super(config);
  }

  @Override
  public Future<BoxedUnit> asyncReplayMessages(String persistenceId, long fromSequenceNr, long toSequenceNr, long max,
      Function1<PersistentRepr, BoxedUnit> recoveryCallback) {
    Optional<List<Try<Tuple2<PersistentRepr, Object>>>> kept = journalDao() instanceof BatchingJournalDao dao
        ? dao.keptEvents(persistenceId, fromSequenceNr, toSequenceNr, max) : Optional.empty();
    if (kept.isEmpty()) {
      return super.asyncReplayMessages(persistenceId, fromSequenceNr, toSequenceNr, max, recoveryCallback);
    }
    for (Try<Tuple2<PersistentRepr, Object>> event : kept.get()) {
      if (event.isFailure()) {
        // As the plugin's stream fails on an event it cannot deserialize: the recovery fails with its cause.
        return Future$.MODULE$.failed(event.failed().get());
      }
      recoveryCallback.apply(event.get()._1());
    }
    return Future$.MODULE$.successful(BoxedUnit.UNIT);
  }
}
