package warmgate.gateway;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.stream.javadsl.Sink;
import warmgate.Json;
import warmgate.request.RequestEntity;

/** {@link JobJournal} read straight from the journal with Pekko Persistence Query. */
public final class ReadJournalJobJournal implements JobJournal {
  /** A job writes a handful of events per attempt; this bounds a response, not a real job. */
  static final int MAX_EVENTS = 10_000;

  private final ActorSystem<?> system;
  private final JdbcReadJournal readJournal;

  public ReadJournalJobJournal(ActorSystem<?> system) {
    this.system = system;
    this.readJournal = PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class,
        JdbcReadJournal.Identifier());
  }

  @Override
  public CompletionStage<List<Entry>> events(String jobId) {
    String persistenceId = PersistenceId.of(RequestEntity.ENTITY_KEY.name(), jobId).id();
    return readJournal.currentEventsByPersistenceId(persistenceId, 0L, Long.MAX_VALUE)
        .take(MAX_EVENTS)
        .map(envelope -> new Entry(
            envelope.sequenceNr(),
            Instant.ofEpochMilli(envelope.timestamp()),
            envelope.event().getClass().getSimpleName(),
            Json.mapper().valueToTree(envelope.event())))
        .runWith(Sink.seq(), system);
  }
}
