package warmgate.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.jdbc.journal.dao.JournalTables.JournalPekkoSerializationRow;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import scala.Option;
import scala.Tuple2;
import scala.jdk.javaapi.CollectionConverters;
import scala.jdk.javaapi.FutureConverters;
import warmgate.index.TestDatabase;

/**
 * What {@link BatchingJournalDao} writes, on a real database through the real journal plugin (no cluster): each
 * event's tag rows point at that event, a failed batch stores nothing, and the plugin reads every event back by tag
 * in journal order. Run on H2 and on PostgreSQL by its subclasses; the Pekko TCK (JournalTck) runs beside it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class BatchingJournalDaoContract {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private TestDatabase db;
  private JournalDaos daos;
  private ActorTestKit testKit;
  private BatchingJournalDao dao;

  abstract TestDatabase database(Path dir);

  @BeforeAll
  void start() throws Exception {
    daos = new JournalDaos(database(Files.createTempDirectory("warmgate-journal-dao")));
    db = daos.db;
    testKit = daos.testKit;
    dao = daos.batching();
  }

  @AfterAll
  void stop() {
    if (daos != null) {
      daos.close();
    }
  }

  @Test
  void tagsEachEventOfABatchWithItsOwnOrdering() throws Exception {
    String prefix = "tagged-" + System.nanoTime() + "-";
    List<Tuple2<JournalPekkoSerializationRow, scala.collection.immutable.Set<String>>> batch = new ArrayList<>();
    // Out of sequence order on purpose: the DAO sorts, as the plugin does.
    batch.add(row(prefix + "a", 2, Set.of("t-1", "t-2")));
    batch.add(row(prefix + "b", 1, Set.of()));
    batch.add(row(prefix + "a", 1, Set.of("t-1")));
    batch.add(row(prefix + "c", 1, Set.of("t-2")));

    write(batch);

    assertThat(tagsByEvent(prefix)).isEqualTo(new TreeMap<>(Map.of(
        prefix + "a/1", Set.of("t-1"),
        prefix + "a/2", Set.of("t-1", "t-2"),
        prefix + "b/1", Set.of(),
        prefix + "c/1", Set.of("t-2"))));
    assertThat(ordering(prefix + "a",
        2)).as("an entity's later event comes later in the journal").isGreaterThan(ordering(prefix + "a", 1));
  }

  @Test
  void storesNothingOfABatchThatFails() throws Exception {
    String prefix = "failing-" + System.nanoTime() + "-";
    write(List.of(row(prefix + "a", 1, Set.of("t-1"))));

    List<Tuple2<JournalPekkoSerializationRow, scala.collection.immutable.Set<String>>> batch = List.of(
        row(prefix + "b", 1, Set.of("t-1")),
        row(prefix + "a", 1, Set.of("t-1")), // already stored: the batch fails
        row(prefix + "c", 1, Set.of("t-2")));

    assertThatThrownBy(() -> write(batch))
        .hasRootCauseInstanceOf(java.sql.SQLException.class)
        // The database's error, not PostgreSQL's batch wrapper, which quotes every entry's parameters (the events'
        // payloads) in its message: nothing of the chain the journal logs may carry it.
        .satisfies(failure -> {
          for (Throwable t = failure; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).as("message of %s",
                t.getClass().getName()).doesNotContain("Batch entry");
          }
        });
    assertThat(tagsByEvent(prefix).keySet()).containsExactly(prefix + "a/1");
  }

  @Test
  void theReadJournalReadsEveryTaggedEventBackInOrder() throws Exception {
    assertThat(db.config.getString("jdbc-journal.dao")).as("the journal a node runs with")
        .isEqualTo(BatchingJournalDao.class.getName());
    String tag = "batch-" + System.nanoTime();
    int entities = 40;
    TestProbe<Done> done = testKit.createTestProbe();
    for (int i = 0; i < entities; i++) {
      ActorRef<LogCommand> log = testKit.spawn(TaggedLog.of("reader-" + tag + "-" + i, tag));
      // Two appends back to back: the plugin gathers many entities' writes into one batch.
      log.tell(new Append(List.of("first " + i, "second " + i), done.ref()));
      log.tell(new Append(List.of("third " + i), done.ref()));
    }
    for (int i = 0; i < 2 * entities; i++) {
      done.expectMessage(WAIT, Done.getInstance());
    }

    JdbcReadJournal reads = PersistenceQuery.get(Adapter.toClassic(testKit.system()))
        .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    List<EventEnvelope> events = reads.currentEventsByTag(tag, Offset.noOffset())
        .runWith(Sink.seq(), testKit.system()).toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);

    assertThat(events).hasSize(3 * entities);
    assertThat(events).extracting(e -> ((org.apache.pekko.persistence.query.Sequence) e.offset()).value()).isSorted();
    for (int i = 0; i < entities; i++) {
      String pid = "TaggedLog|reader-" + tag + "-" + i;
      assertThat(events.stream().filter(e -> e.persistenceId().equals(pid)).map(EventEnvelope::event).toList())
          .containsExactly("first " + i, "second " + i, "third " + i);
    }
  }

  @Test
  void recoveriesAtOnceReadTogetherAndReplayWhatThePluginWould() throws Exception {
    String prefix = "recovering-" + System.nanoTime() + "-";
    int entities = 120;
    TestProbe<Done> done = testKit.createTestProbe();
    for (int i = 0; i < entities; i++) {
      ActorRef<LogCommand> log = testKit.spawn(TaggedLog.of(prefix + i, "t"));
      List<String> events = new ArrayList<>();
      for (int e = 0; e <= i % 5; e++) {
        events.add("event " + e + " of " + i);
      }
      log.tell(new Append(events, done.ref()));
    }
    for (int i = 0; i < entities; i++) {
      done.expectMessage(WAIT, Done.getInstance());
    }
    long readsBefore = dao.recoveries().reads();

    // What Pekko asks of the journal for a recovery without a snapshot, for every entity at once: the highest
    // sequence number from 0, then the events up to it.
    List<java.util.concurrent.CompletableFuture<Object>> highest = new ArrayList<>();
    for (int i = 0; i < entities; i++) {
      highest.add(FutureConverters.asJava(dao.highestSequenceNr("TaggedLog|" + prefix + i, 0)).toCompletableFuture());
    }
    for (int i = 0; i < entities; i++) {
      String pid = "TaggedLog|" + prefix + i;
      assertThat(highest.get(i).get(WAIT.toSeconds(), TimeUnit.SECONDS)).as(pid).isEqualTo((long) (i % 5 + 1));
      assertThat(replay(pid, 1, Long.MAX_VALUE)).as(pid).isEqualTo(pluginReplay(pid));
    }
    assertThat(dao.recoveries().reads() - readsBefore).as("queries for %d recoveries at once", entities)
        .isLessThan(entities / 4);
    assertThat(dao.recoveries().keptCount()).as("events kept after every replay took its own").isZero();
  }

  @Test
  void aNewEntityFindsNothingAndKeepsNothing() throws Exception {
    String pid = "TaggedLog|never-written-" + System.nanoTime();

    assertThat(highest(pid, 0)).isEqualTo(0L);
    assertThat(dao.recoveries().keptCount()).isZero();
  }

  @Test
  void aLongHistoryAndARecoveryFromASnapshotReadAsThePluginDoes() throws Exception {
    String id = "long-" + System.nanoTime();
    String pid = "TaggedLog|" + id;
    ActorRef<LogCommand> log = testKit.spawn(TaggedLog.of(id, "t"));
    int count = RecoveryReads.MAX_EVENTS + 30;
    List<String> events = new ArrayList<>();
    for (int e = 0; e < count; e++) {
      events.add("event " + e);
    }
    append(log, events);

    assertThat(highest(pid, 0)).isEqualTo((long) count);
    assertThat(replay(pid, 1, Long.MAX_VALUE)).hasSize(count).isEqualTo(pluginReplay(pid));
    // From a snapshot at 40: Pekko asks from 40, then replays from 41.
    assertThat(highest(pid, 40)).isEqualTo((long) count);
    assertThat(replay(pid, 41, count)).hasSize(count - 40).first().isEqualTo("event 40");
  }

  @Test
  void aReplayAfterANewWriteReadsTheNewEventsNotWhatAnEarlierAskKept() throws Exception {
    String id = "rewritten-" + System.nanoTime();
    String pid = "TaggedLog|" + id;
    ActorRef<LogCommand> log = testKit.spawn(TaggedLog.of(id, "t"));
    append(log, List.of("one"));
    highest(pid, 0); // a recovery that stopped before its replay: its events stay kept
    append(log, List.of("two"));

    assertThat(highest(pid, 0)).isEqualTo(2L);
    assertThat(replay(pid, 1, Long.MAX_VALUE)).containsExactly("one", "two");
  }

  @Test
  void entitiesRestartedAtOnceRecoverTheirEventsThroughTheNodesJournal() throws Exception {
    assertThat(db.config.getString("jdbc-journal.class")).as("the journal a node runs with")
        .isEqualTo(BatchingJournal.class.getName());
    String prefix = "restarted-" + System.nanoTime() + "-";
    int entities = 60;
    List<ActorRef<LogCommand>> logs = new ArrayList<>();
    for (int i = 0; i < entities; i++) {
      ActorRef<LogCommand> log = testKit.spawn(TaggedLog.of(prefix + i, "t"));
      append(log, List.of("a" + i, "b" + i));
      append(log, List.of("c" + i));
      logs.add(log);
    }
    TestProbe<Object> gone = testKit.createTestProbe();
    for (ActorRef<LogCommand> log : logs) {
      testKit.stop(log);
      gone.expectTerminated(log, WAIT);
    }

    // Every entity starts again and recovers at once: Pekko asks the journal actor (BatchingJournal) for the highest
    // sequence number, then replays. That actor's DAO is its own, out of this test's reach, so what is checked here
    // is the outcome; the batching and the kept rows are checked on this test's DAO by the tests above.
    List<TestProbe<List<String>>> answers = new ArrayList<>();
    for (int i = 0; i < entities; i++) {
      TestProbe<List<String>> answer = testKit.createTestProbe();
      testKit.spawn(TaggedLog.of(prefix + i, "t")).tell(new Read(answer.ref()));
      answers.add(answer);
    }
    for (int i = 0; i < entities; i++) {
      assertThat(answers.get(i).receiveMessage(WAIT)).as("recovered events of %s%d", prefix, i)
          .containsExactly("a" + i, "b" + i, "c" + i);
    }
  }

  @Test
  void aDeletedEventIsNotReplayedButItsSequenceNumberCounts() throws Exception {
    String id = "deleted-" + System.nanoTime();
    String pid = "TaggedLog|" + id;
    ActorRef<LogCommand> log = testKit.spawn(TaggedLog.of(id, "t"));
    append(log, List.of("one", "two", "three"));
    FutureConverters.asJava(dao.delete(pid, 2)).toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);

    assertThat(highest(pid, 0)).isEqualTo(3L);
    assertThat(dao.keptEvents(pid, 1, Long.MAX_VALUE, Long.MAX_VALUE).orElseThrow())
        .extracting(event -> event.get()._1().payload()).containsExactly("three")
        .isEqualTo(pluginReplay(pid));
  }

  private void append(ActorRef<LogCommand> log, List<String> events) {
    TestProbe<Done> done = testKit.createTestProbe();
    log.tell(new Append(events, done.ref()));
    done.expectMessage(WAIT, Done.getInstance());
  }

  private Object highest(String pid, long from) throws Exception {
    return FutureConverters.asJava(dao.highestSequenceNr(pid, from)).toCompletableFuture().get(WAIT.toSeconds(),
        TimeUnit.SECONDS);
  }

  private List<Object> replay(String pid, long from, long to) throws Exception {
    return dao.messagesWithBatch(pid, from, to, 400, Option.empty()).asJava()
        .map(t -> t.get()._1().payload())
        .runWith(Sink.seq(), testKit.system()).toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  /** The plugin's own replay, by its per-entity query. */
  private List<Object> pluginReplay(String pid) throws Exception {
    return dao.messages(pid, 1, Long.MAX_VALUE, Long.MAX_VALUE).asJava()
        .map(t -> t.get()._1().payload())
        .runWith(Sink.seq(), testKit.system()).toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private void write(List<Tuple2<JournalPekkoSerializationRow, scala.collection.immutable.Set<String>>> batch)
      throws Exception {
    FutureConverters.asJava(dao.writeJournalRows(CollectionConverters.asScala(batch).toList()))
        .toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private static Tuple2<JournalPekkoSerializationRow, scala.collection.immutable.Set<String>> row(String pid,
      long seqNr, Set<String> tags) {
    byte[] payload = (pid + "/" + seqNr).getBytes(StandardCharsets.UTF_8);
    var row = new JournalPekkoSerializationRow(Long.MAX_VALUE, false, pid, seqNr, "writer", 1_700_000_000_000L, "",
        payload, 20, "",
        Option.empty(), Option.empty(), Option.empty());
    return Tuple2.apply(row, CollectionConverters.asScala(tags).toSet());
  }

  /** Per stored event of these persistence ids ({@code pid/seqNr}), the tags whose rows point at its ordering. */
  private TreeMap<String, Set<String>> tagsByEvent(String prefix) throws Exception {
    TreeMap<String, Set<String>> tags = new TreeMap<>();
    try (Connection c = db.pool.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT j.\"persistence_id\", j.\"sequence_number\", t.\"tag\" FROM \"event_journal\" j "
            + "LEFT JOIN \"event_tag\" t ON t.\"event_id\" = j.\"ordering\" WHERE j.\"persistence_id\" LIKE ?")) {
      ps.setString(1, prefix + "%");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Set<String> of = tags.computeIfAbsent(rs.getString(1) + "/" + rs.getLong(2), key -> new TreeSet<>());
          if (rs.getString(3) != null) {
            of.add(rs.getString(3));
          }
        }
      }
    }
    return tags;
  }

  private long ordering(String pid, long seqNr) throws Exception {
    try (Connection c = db.pool.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT \"ordering\" FROM \"event_journal\" WHERE \"persistence_id\" = ? AND \"sequence_number\" = ?")) {
      ps.setString(1, pid);
      ps.setLong(2, seqNr);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("%s/%s stored", pid, seqNr).isTrue();
        return rs.getLong(1);
      }
    }
  }

  interface LogCommand {}

  record Append(List<String> events, ActorRef<Done> replyTo) implements LogCommand {}

  /** Answers the events the log holds, in order: after a restart, what its recovery replayed. */
  record Read(ActorRef<List<String>> replyTo) implements LogCommand {}

  /** An event-sourced log whose every event carries one tag; its state is its events. */
  static final class TaggedLog extends EventSourcedBehavior<LogCommand, String, List<String>> {
    private final String tag;

    private TaggedLog(String id, String tag) {
      super(PersistenceId.of("TaggedLog", id));
      this.tag = tag;
    }

    static Behavior<LogCommand> of(String id, String tag) {
      return new TaggedLog(id, tag);
    }

    @Override
    public List<String> emptyState() {
      return List.of();
    }

    @Override
    public Set<String> tagsFor(String event) {
      return Set.of(tag);
    }

    @Override
    public CommandHandler<LogCommand, String, List<String>> commandHandler() {
      return newCommandHandlerBuilder().forAnyState()
          .onCommand(Append.class, (state, cmd) -> Effect().persist(cmd.events()).thenReply(cmd.replyTo(),
              s -> Done.getInstance()))
          .onCommand(Read.class, (state, cmd) -> Effect().reply(cmd.replyTo(), state))
          .build();
    }

    @Override
    public EventHandler<List<String>, String> eventHandler() {
      return newEventHandlerBuilder().forAnyState().onAnyEvent((state, event) -> {
        List<String> next = new ArrayList<>(state);
        next.add(event);
        return List.copyOf(next);
      });
    }
  }
}
