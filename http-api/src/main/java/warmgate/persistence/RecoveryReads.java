package warmgate.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.apache.pekko.persistence.jdbc.journal.dao.JournalTables.JournalPekkoSerializationRow;

/**
 * Reads what the recoveries of many entities need in one query: each one's highest sequence number and its events.
 *
 * <p>An entity's recovery costs the journal plugin two round trips, one for the highest sequence number and one for
 * the events up to it, and every entity asks alone. A job has a handful of events and recovers often (every grant of a
 * parked job starts one, and every new job's start is a recovery that finds nothing), so at hundreds of recoveries at
 * once those queries took the two cores' time from the journal's writes, which a drained slot waits for
 * (docs/benchmarks.md, section 10). Here the asks for highest sequence numbers that arrive
 * while a read is running wait for it and go together in the next read: one query for all of them, which also
 * returns their events. The events are kept for the replay that follows a moment later ({@link #takeEvents}), so an
 * entity's recovery costs part of one query instead of two. One read runs at a time: at low load a read holds one
 * entity and costs what the plugin's did; under load the reads grow instead of queueing.
 *
 * <p>The same answers as the plugin's: the highest sequence number of all the entity's rows (a row marked deleted
 * included), and its events in sequence order. An entity with more than {@link #MAX_EVENTS} events is left to the
 * plugin's reads (the caller asks again with {@link Answer#tooLong}), so a read holds a bounded number of rows per
 * entity; so are recoveries from a snapshot, which do not start at the first event.
 */
final class RecoveryReads {
  /** More events than this and the entity's recovery takes the plugin's path, which reads in pages. */
  static final int MAX_EVENTS = 64;
  /** Entities per query: an IN list of this many parameters stays well inside every driver's limit. */
  static final int MAX_BATCH = 250;
  /** Events kept for a replay that never came (its recovery stopped in between) are dropped after this long. */
  static final long KEEP_NANOS = 60_000_000_000L;

  /** What a read found for one entity. */
  record Answer(long highest, boolean tooLong) {}

  /** Runs a read on a pooled connection, off the caller's thread; the plugin's database in production. */
  interface Database {
    <T> CompletionStage<T> run(Function<Connection, T> read);
  }

  private record Ask(String persistenceId, CompletableFuture<Answer> answer) {}

  private record Kept(List<JournalPekkoSerializationRow> rows, long readAtNanos) {}

  private final Database database;
  private final String select;
  private final LongSupplier nanoTime;
  private final ArrayDeque<Ask> waiting = new ArrayDeque<>();
  private final Map<String, Kept> kept = new ConcurrentHashMap<>();
  private boolean reading;
  private long reads;
  private long lastSweep;

  /**
   * @param select a query with one {@code %s} for the IN list's placeholders, returning the journal's columns in
   *     {@link #row}'s order plus each row's rank within its entity ({@link #selectFor})
   */
  RecoveryReads(Database database, String select, LongSupplier nanoTime) {
    this.database = database;
    this.select = select;
    this.nanoTime = nanoTime;
    this.lastSweep = nanoTime.getAsLong();
  }

  /**
   * The query for the plugin's journal table: the first {@code MAX_EVENTS + 1} rows of each entity (the extra one
   * tells a longer history) in sequence order. A window function, which PostgreSQL and H2 both have, bounds the rows
   * per entity inside the database.
   */
  static String selectFor(String table, List<String> columns, String persistenceId, String sequenceNumber) {
    String cols = String.join(", ", columns);
    return "SELECT " + cols + " FROM (SELECT " + cols + ", ROW_NUMBER() OVER (PARTITION BY " + persistenceId
        + " ORDER BY " + sequenceNumber + ") AS rank_in_entity FROM " + table + " WHERE " + persistenceId
        + " IN (%s)) ranked WHERE rank_in_entity <= " + (MAX_EVENTS + 1) + " ORDER BY " + persistenceId + ", "
        + sequenceNumber;
  }

  /** The highest sequence number of the entity, read with whatever other entities are asking now. */
  CompletionStage<Answer> highest(String persistenceId) {
    CompletableFuture<Answer> answer = new CompletableFuture<>();
    List<Ask> batch;
    synchronized (this) {
      waiting.add(new Ask(persistenceId, answer));
      if (reading) {
        return answer;
      }
      reading = true;
      batch = next();
    }
    read(batch);
    return answer;
  }

  /** The events found by the read that answered {@link #highest}, once; empty if they were not kept. */
  Optional<List<JournalPekkoSerializationRow>> takeEvents(String persistenceId) {
    Kept k = kept.remove(persistenceId);
    return k == null ? Optional.empty() : Optional.of(k.rows());
  }

  /** How many queries have run: a test's view of the batching. */
  synchronized long reads() {
    return reads;
  }

  int keptCount() {
    return kept.size();
  }

  private List<Ask> next() {
    List<Ask> batch = new ArrayList<>(Math.min(waiting.size(), MAX_BATCH));
    while (!waiting.isEmpty() && batch.size() < MAX_BATCH) {
      batch.add(waiting.poll());
    }
    reads++;
    return batch;
  }

  private void read(List<Ask> batch) {
    List<String> ids = batch.stream().map(Ask::persistenceId).distinct().toList();
    CompletionStage<Map<String, List<JournalPekkoSerializationRow>>> rows;
    try {
      rows = database.run(c -> query(c, ids));
    } catch (RuntimeException e) {
      rows = CompletableFuture.failedFuture(e);
    }
    rows.whenComplete((found, failure) -> {
      long now = nanoTime.getAsLong();
      for (Ask ask : batch) {
        if (failure != null) {
          ask.answer().completeExceptionally(failure);
          continue;
        }
        List<JournalPekkoSerializationRow> events = found.getOrDefault(ask.persistenceId(), List.of());
        if (events.size() > MAX_EVENTS) {
          ask.answer().complete(new Answer(0, true));
          continue;
        }
        if (!events.isEmpty()) {
          kept.put(ask.persistenceId(), new Kept(events, now));
        }
        long highest = events.isEmpty() ? 0 : events.get(events.size() - 1).sequenceNumber();
        ask.answer().complete(new Answer(highest, false));
      }
      sweep(now);
      List<Ask> following;
      synchronized (this) {
        if (waiting.isEmpty()) {
          reading = false;
          return;
        }
        following = next();
      }
      read(following);
    });
  }

  private Map<String, List<JournalPekkoSerializationRow>> query(Connection c, List<String> ids) {
    String placeholders = String.join(", ", Collections.nCopies(ids.size(), "?"));
    Map<String, List<JournalPekkoSerializationRow>> found = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(select.formatted(placeholders))) {
      for (int i = 0; i < ids.size(); i++) {
        ps.setString(i + 1, ids.get(i));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          JournalPekkoSerializationRow row = JournalSql.row(rs);
          found.computeIfAbsent(row.persistenceId(), id -> new ArrayList<>()).add(row);
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("reading the journal for " + ids.size() + " recoveries failed: "
          + e.getMessage(), e);
    }
    return found;
  }

  /** Drops events kept for recoveries that stopped before their replay; at most once a second. */
  private void sweep(long now) {
    if (now - lastSweep < 1_000_000_000L) {
      return;
    }
    lastSweep = now;
    kept.values().removeIf(k -> now - k.readAtNanos() > KEEP_NANOS);
  }
}
