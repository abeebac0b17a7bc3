package warmgate.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.persistence.jdbc.config.ReadJournalConfig;
import org.apache.pekko.persistence.jdbc.journal.dao.JournalTables.JournalPekkoSerializationRow;
import org.apache.pekko.persistence.jdbc.query.dao.ReadJournalDao;
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
 * {@link TagSeekReadDao}'s events by tag against the plugin's own ({@code DefaultReadJournalDao}) on the same
 * journal, on a real database: the same events in the same order for every offset, upper bound and limit. Run on H2
 * and on PostgreSQL by its subclasses; the PostgreSQL one also reads from the plan that a page deep in the journal
 * starts at its offset.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class TagSeekReadDaoContract {
  static final Duration WAIT = Duration.ofSeconds(20);

  TestDatabase db;
  private JournalDaos daos;
  private BatchingJournalDao writer;
  ReadJournalConfig readConfig;
  private ReadJournalDao plugin;
  private TagSeekReadDao seeking;

  abstract TestDatabase database(Path dir);

  @BeforeAll
  void start() throws Exception {
    daos = new JournalDaos(database(Files.createTempDirectory("warmgate-tag-reads")));
    db = daos.db;
    writer = daos.batching();
    readConfig = daos.readConfig();
    plugin = daos.pluginReads();
    seeking = daos.seekingReads();
  }

  @AfterAll
  void stop() {
    daos.close();
  }

  @Test
  void theNodesReadJournalReadsThroughIt() {
    assertThat(db.config.getString("jdbc-read-journal.dao")).isEqualTo(TagSeekReadDao.class.getName());
  }

  @Test
  void aTagsEventsAreThePluginsForEveryOffsetBoundAndLimit() throws Exception {
    String prefix = "ranges-" + System.nanoTime() + "-";
    // Tag "every" on each event, "third" on every third, "rare" on every fiftieth (a tag whose events are far apart,
    // as an endpoint's are among the jobs'); some events carry two tags, a few carry none.
    List<Tuple2<JournalPekkoSerializationRow, scala.collection.immutable.Set<String>>> batch = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      Set<String> tags = i % 7 == 6 ? Set.of() : i % 50 == 0 ? Set.of(prefix + "every", prefix + "rare")
          : i % 3 == 0 ? Set.of(prefix + "every", prefix + "third") : Set.of(prefix + "every");
      batch.add(row(prefix + (i % 30), i / 30 + 1, tags, false));
    }
    write(batch);
    List<Long> orderings = read(plugin, prefix + "every", 0, Long.MAX_VALUE, Long.MAX_VALUE).stream()
        .map(Event::ordering).toList();
    assertThat(orderings).hasSize(300 - 300 / 7);
    long first = orderings.get(0);
    long middle = orderings.get(orderings.size() / 2);
    long last = orderings.get(orderings.size() - 1);

    int compared = 0;
    for (String tag : List.of("every", "third", "rare", "untagged")) {
      for (long offset : List.of(0L, first - 1, first, middle, last - 1, last)) {
        for (long bound : List.of(middle, last, Long.MAX_VALUE)) {
          for (long max : List.of(1L, 7L, 1000L, Long.MAX_VALUE)) {
            List<Event> theirs = read(plugin, prefix + tag, offset, bound, max);
            assertThat(read(seeking, prefix + tag, offset, bound, max))
                .as("%s after %d up to %d, at most %d", tag, offset, bound, max).isEqualTo(theirs);
            compared += theirs.isEmpty() ? 0 : 1;
          }
        }
      }
    }
    assertThat(compared).as("comparisons that found events").isGreaterThan(100);
  }

  @Test
  void aDeletedEventIsLeftOutAsThePluginLeavesItOut() throws Exception {
    String prefix = "deleted-" + System.nanoTime() + "-";
    write(List.of(row(prefix + "a", 1, Set.of(prefix + "t"), true), row(prefix + "a", 2, Set.of(prefix + "t"), false),
        row(prefix + "b", 1, Set.of(prefix + "t"), false)));

    List<Event> theirs = read(plugin, prefix + "t", 0, Long.MAX_VALUE, Long.MAX_VALUE);
    assertThat(theirs).extracting(Event::persistenceId, Event::sequenceNr)
        .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple(prefix + "a", 2L),
            org.assertj.core.groups.Tuple.tuple(prefix + "b", 1L));
    assertThat(read(seeking, prefix + "t", 0, Long.MAX_VALUE, Long.MAX_VALUE)).isEqualTo(theirs);
  }

  /** An event as the read journal hands it on: who wrote it, its place in the journal and its payload. */
  record Event(String persistenceId, long sequenceNr, long ordering, String payload, int tags) {}

  private List<Event> read(ReadJournalDao dao, String tag, long offset, long bound, long max) throws Exception {
    return dao.eventsByTag(tag, offset, bound, max).asJava()
        .map(t -> {
          var read = t.get();
          return new Event(read._1().persistenceId(), read._1().sequenceNr(), (Long) read._3(),
              new String((byte[]) read._1().payload(), StandardCharsets.UTF_8), read._2().size());
        })
        .runWith(Sink.seq(), daos.testKit.system()).toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private void write(List<Tuple2<JournalPekkoSerializationRow, scala.collection.immutable.Set<String>>> batch)
      throws Exception {
    FutureConverters.asJava(writer.writeJournalRows(CollectionConverters.asScala(batch).toList()))
        .toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  /** A row the plugin can read back: serializer 4 is Pekko's byte-array serializer, which returns the bytes. */
  private static Tuple2<JournalPekkoSerializationRow, scala.collection.immutable.Set<String>> row(String pid,
      long seqNr, Set<String> tags, boolean deleted) {
    byte[] payload = (pid + "/" + seqNr).getBytes(StandardCharsets.UTF_8);
    var row = new JournalPekkoSerializationRow(Long.MAX_VALUE, deleted, pid, seqNr, "writer", 1_700_000_000_000L, "",
        payload, 4, "", Option.empty(), Option.empty(), Option.empty());
    return Tuple2.apply(row, CollectionConverters.asScala(tags).toSet());
  }
}
