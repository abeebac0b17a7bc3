package warmgate.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.pekko.persistence.jdbc.journal.dao.JournalTables.JournalPekkoSerializationRow;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;
import scala.Option;

/**
 * How {@link RecoveryReads} gathers asks into reads, with reads held open by the test: the SQL and the rows are the
 * contract tests' ({@link BatchingJournalDaoContract}, on H2 and PostgreSQL).
 */
class RecoveryReadsTest {

  /** Reads that complete when the test says, each remembering nothing but that it ran. */
  private static final class HeldReads implements RecoveryReads.Database {
    final List<CompletableFuture<Object>> pending = new ArrayList<>();

    @Override
    @SuppressWarnings("unchecked")
    public synchronized <T> CompletionStage<T> run(Function<Connection, T> read) {
      CompletableFuture<Object> f = new CompletableFuture<>();
      pending.add(f);
      return (CompletionStage<T>) f;
    }

    synchronized CompletableFuture<Object> read(int i) {
      return pending.get(i);
    }

    synchronized int count() {
      return pending.size();
    }
  }

  private final HeldReads database = new HeldReads();
  private final AtomicLong nanos = new AtomicLong();
  private final RecoveryReads reads = new RecoveryReads(database, "SELECT %s", nanos::get);

  @Test
  void asksArrivingWhileAReadRunsGoTogetherInTheNextRead() throws Exception {
    CompletionStage<RecoveryReads.Answer> first = reads.highest("a");
    List<CompletionStage<RecoveryReads.Answer>> later = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      later.add(reads.highest("b" + i));
    }
    assertThat(database.count()).as("one read at a time").isEqualTo(1);

    database.read(0).complete(Map.of());
    assertThat(first.toCompletableFuture().get(1, TimeUnit.SECONDS)).isEqualTo(new RecoveryReads.Answer(0, false));
    assertThat(database.count()).as("the ten that waited, in one read").isEqualTo(2);
    database.read(1).complete(Map.of());
    for (var answer : later) {
      assertThat(answer.toCompletableFuture().get(1, TimeUnit.SECONDS).highest()).isZero();
    }
    assertThat(reads.reads()).isEqualTo(2);
  }

  @Test
  void aReadHoldsAtMostMaxBatchEntities() {
    reads.highest("first");
    for (int i = 0; i < RecoveryReads.MAX_BATCH + 1; i++) {
      reads.highest("e" + i);
    }
    database.read(0).complete(Map.of());
    assertThat(database.count()).isEqualTo(2);
    database.read(1).complete(Map.of());
    assertThat(database.count()).as("the one that did not fit, in a third read").isEqualTo(3);
  }

  @Test
  void aFailedReadFailsItsAsksAndTheNextAskReadsAgain() throws Exception {
    CompletionStage<RecoveryReads.Answer> failing = reads.highest("a");
    database.read(0).completeExceptionally(new IllegalStateException("database down"));

    Assertions.assertThatThrownBy(() -> failing.toCompletableFuture().get(1, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).hasRootCauseMessage("database down");
    CompletionStage<RecoveryReads.Answer> next = reads.highest("a");
    assertThat(database.count()).as("a new read, not one stuck behind the failed one").isEqualTo(2);
    database.read(1).complete(Map.of());
    assertThat(next.toCompletableFuture().get(1, TimeUnit.SECONDS).highest()).isZero();
  }

  @Test
  void eventsKeptForAReplayThatNeverCameAreDroppedAfterAMinute() throws Exception {
    CompletionStage<RecoveryReads.Answer> stopped = reads.highest("a");
    database.read(0).complete(Map.of("a", List.of(row("a", 1), row("a", 2))));
    assertThat(stopped.toCompletableFuture().get(1, TimeUnit.SECONDS)).isEqualTo(new RecoveryReads.Answer(2, false));
    assertThat(reads.keptCount()).isEqualTo(1);

    nanos.addAndGet(RecoveryReads.KEEP_NANOS + 1_000_000_000L);
    reads.highest("b");
    database.read(1).complete(Map.of());

    assertThat(reads.keptCount()).isZero();
    assertThat(reads.takeEvents("a")).isEmpty();
  }

  @Test
  void anEntityWithMoreEventsThanARecoveryReadHoldsIsLeftToThePlugin() throws Exception {
    List<JournalPekkoSerializationRow> many = new ArrayList<>();
    for (int seq = 1; seq <= RecoveryReads.MAX_EVENTS + 1; seq++) {
      many.add(row("long", seq));
    }
    CompletionStage<RecoveryReads.Answer> answer = reads.highest("long");
    database.read(0).complete(Map.of("long", many));

    assertThat(answer.toCompletableFuture().get(1, TimeUnit.SECONDS).tooLong()).isTrue();
    assertThat(reads.takeEvents("long")).as("nothing kept: the plugin reads its events").isEmpty();
  }

  private static JournalPekkoSerializationRow row(String pid, long seq) {
    return new JournalPekkoSerializationRow(seq, false, pid, seq, "writer", 0L, "", new byte[0], 1, "",
        Option.empty(), Option.empty(), Option.empty());
  }
}
