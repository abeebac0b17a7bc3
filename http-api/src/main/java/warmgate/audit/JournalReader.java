package warmgate.audit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.Sequence;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.endpoint.EndpointEntity;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.gateway.TryLater;
import warmgate.persistence.DatabaseSettings;
import warmgate.request.Request;
import warmgate.request.RequestEntity;

/**
 * The journal as audits read it: pekko-persistence-jdbc's read journal for the events (deserialized as the
 * entities wrote them), and one plain SQL query on its {@code event_journal} table to find where a time range
 * starts and ends, so a range is read from its first event to its last instead of from the journal's beginning.
 */
public final class JournalReader implements AuditLog {
  private static final Logger log = LoggerFactory.getLogger(JournalReader.class);
  public static final String REQUEST = "Request";
  public static final String ENDPOINT = "EndpointLifecycle";

  /** Job events carry one of {@link Request#TAGS}, endpoint events {@link EndpointLifecycle#TAG}. */
  public static final List<String> ALL_TAGS = concat(RequestEntity.TAGS, List.of(EndpointLifecycle.TAG));

  /** Entity type key name (the persistence id's prefix) to the entity's name in audits. */
  private static final Map<String, String> ENTITIES = Map.of(
      RequestEntity.ENTITY_KEY.name(), REQUEST,
      EndpointEntity.ENTITY_KEY.name(), ENDPOINT);

  private static final Comparator<StoredEvent> JOURNAL_ORDER = Comparator.comparingLong(StoredEvent::ordering);

  /**
   * The first and last event of a range among the tagged ones, and how many there are. {@code write_timestamp}
   * is what the read journal reports as an event's timestamp; its index (schema/*.sql) keeps this to the range.
   */
  private static final String RANGE_SQL = """
      SELECT MIN(j."ordering"), MAX(j."ordering"), COUNT(*) FROM "event_journal" j
      WHERE j."write_timestamp" >= ? AND j."write_timestamp" < ? AND j."deleted" = FALSE
        AND EXISTS (SELECT 1 FROM "event_tag" t WHERE t."event_id" = j."ordering" AND t."tag" IN (%s))""";

  private final ActorSystem<?> system;
  private final JdbcReadJournal readJournal;
  private final Connections connections;
  private final Executor blocking;

  /** Where the range query gets its connection: a node lends its read-side pool, the CLI connects directly. */
  @FunctionalInterface
  public interface Connections {
    Connection open() throws SQLException;
  }

  /** A reader connecting directly, once per range query: the audit CLI, which runs a few queries and exits. */
  public JournalReader(ActorSystem<?> system, DatabaseSettings database) {
    this(system, () -> DriverManager.getConnection(database.url(), database.user(), database.password()));
  }

  public JournalReader(ActorSystem<?> system, Connections connections) {
    this.system = system;
    this.readJournal = PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class,
        JdbcReadJournal.Identifier());
    this.connections = connections;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
  }

  /**
   * Where the events of a range sit in the journal.
   *
   * @param count how many events the range holds, which is exactly how many {@link #stream} emits
   * @param firstOrdering the first one's {@code ordering}; meaningless when {@code count} is 0
   */
  public record Selection(TimeRange range, List<String> tags, long count, long firstOrdering, long lastOrdering) {}

  @Override
  public CompletionStage<Source<AuditEvent, NotUsed>> events(TimeRange range) {
    return select(range, ALL_TAGS).thenApply(selection -> stream(selection).map(AuditEvent::of));
  }

  /** Locates the events of {@code range} carrying one of {@code tags}: one SQL query, off the actors' threads. */
  public CompletionStage<Selection> select(TimeRange range, List<String> tags) {
    return CompletableFuture.supplyAsync(() -> {
      String sql = RANGE_SQL.formatted(String.join(", ", Collections.nCopies(tags.size(), "?")));
      try (Connection connection = connections.open(); PreparedStatement query = connection.prepareStatement(sql)) {
        query.setLong(1, range.fromMillis());
        query.setLong(2, range.toMillisExclusive());
        for (int i = 0; i < tags.size(); i++) {
          query.setString(3 + i, tags.get(i));
        }
        try (ResultSet row = query.executeQuery()) {
          row.next();
          return new Selection(range, List.copyOf(tags), row.getLong(3), row.getLong(1), row.getLong(2));
        }
      } catch (SQLException e) {
        log.warn("Locating {} in the journal failed", range, e);
        String reason = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
        throw new CompletionException(new TryLater("the journal database did not answer (" + reason
            + "); nothing was read, ask again"));
      }
    }, blocking);
  }

  /**
   * The selected events in journal order. Each tag is read from the range's first event and stops after its
   * last, so events written since the selection (a {@code to} in the future) are left out and the count holds.
   */
  public Source<StoredEvent, NotUsed> stream(Selection selection) {
    if (selection.count() == 0) {
      return Source.empty();
    }
    Source<StoredEvent, NotUsed> merged = null;
    for (String tag : selection.tags()) {
      Source<StoredEvent, NotUsed> tagged = readJournal.currentEventsByTag(tag,
          Offset.sequence(selection.firstOrdering() - 1))
          .takeWhile(envelope -> ordering(envelope) <= selection.lastOrdering())
          .filter(envelope -> selection.range().containsMillis(envelope.timestamp()))
          .map(JournalReader::stored);
      // Each tag's stream is in journal order already; merging keeps it so across tags.
      merged = merged == null ? tagged : merged.mergeSorted(tagged, JOURNAL_ORDER);
    }
    return merged;
  }

  /** Every event of job {@code jobId}, oldest first; empty when there is no such job. */
  public CompletionStage<List<StoredEvent>> job(String jobId) {
    return job(jobId, Long.MAX_VALUE);
  }

  /** The events of job {@code jobId} up to sequence number {@code toSeqNr}, oldest first. */
  public CompletionStage<List<StoredEvent>> job(String jobId, long toSeqNr) {
    return events(PersistenceId.of(RequestEntity.ENTITY_KEY.name(), jobId).id(), toSeqNr);
  }

  /** Every event of endpoint {@code name}, oldest first, including those written before endpoint events were tagged. */
  public CompletionStage<List<StoredEvent>> endpoint(String name) {
    return events(PersistenceId.of(EndpointEntity.ENTITY_KEY.name(), name).id(), Long.MAX_VALUE);
  }

  private CompletionStage<List<StoredEvent>> events(String persistenceId, long toSeqNr) {
    return readJournal.currentEventsByPersistenceId(persistenceId, 0L, toSeqNr)
        .map(JournalReader::stored)
        .runWith(Sink.seq(), system);
  }

  /** The id of every job in the journal (unordered). */
  public Source<String, NotUsed> jobIds() {
    String prefix = RequestEntity.ENTITY_KEY.name() + PersistenceId.DefaultSeparator();
    return readJournal.currentPersistenceIds().filter(id -> id.startsWith(prefix)).map(id ->
        id.substring(prefix.length()));
  }

  /**
   * The names of the endpoints with tagged events in the journal. Endpoints write a few events per cold start,
   * so reading them all is short next to the jobs' events.
   */
  public CompletionStage<Set<String>> endpointNames() {
    return readJournal.currentEventsByTag(EndpointLifecycle.TAG, Offset.noOffset())
        .map(envelope -> stored(envelope).id())
        .runWith(Sink.fold(new TreeSet<String>(), (names, name) -> {
          names.add(name);
          return names;
        }), system)
        .thenApply(names -> names);
  }

  private static StoredEvent stored(EventEnvelope envelope) {
    String persistenceId = envelope.persistenceId();
    int separator = persistenceId.indexOf(PersistenceId.DefaultSeparator());
    String type = separator < 0 ? persistenceId : persistenceId.substring(0, separator);
    String id = separator < 0 ? persistenceId : persistenceId.substring(separator + 1);
    return new StoredEvent(ENTITIES.getOrDefault(type, type), id, envelope.sequenceNr(), ordering(envelope),
        Instant.ofEpochMilli(envelope.timestamp()), envelope.event());
  }

  private static long ordering(EventEnvelope envelope) {
    return ((Sequence) envelope.offset()).value();
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return List.copyOf(all);
  }
}
