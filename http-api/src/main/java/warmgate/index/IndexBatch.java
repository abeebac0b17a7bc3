package warmgate.index;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.request.JobSummary;
import warmgate.request.Request;

/**
 * One group of journal events folded into {@code job_index} inside one transaction: the rows the group touches
 * are read with one query, folded in memory event by event (a job's JobSubmitted and JobQueued often arrive in
 * the same group), and written back once each, as one batch of inserts and one of updates. The result is the
 * same as applying the events one at a time; only the number of statements and commits differs.
 */
final class IndexBatch {
  private static final Logger log = LoggerFactory.getLogger(IndexBatch.class);

  /** A touched job's row: as stored (or folded so far in this group), and whether the table has it yet. */
  private static final class Row {
    JobIndexTable.Stored stored;
    final boolean inTable;
    boolean changed;

    Row(JobIndexTable.Stored stored) {
      this.stored = stored;
      this.inTable = stored != null;
    }
  }

  /** An event with where it sits in its job's journal. */
  record Item(String persistenceId, long seqNr, Object event) {}

  private IndexBatch() {}

  /**
   * Folds {@code items}, in journal order, into their rows. What the fold does not understand is logged and
   * skipped, never a reason to stop the projection: one odd event must not freeze every list.
   */
  static void apply(Connection c, List<Item> items) throws SQLException {
    Set<String> jobIds = new LinkedHashSet<>();
    for (Item item : items) {
      if (item.event() instanceof Request.Event) {
        jobIds.add(PersistenceId.extractEntityId(item.persistenceId()));
      }
    }
    Map<String, JobIndexTable.Stored> stored = JobIndexTable.loadAll(c, jobIds);
    Map<String, Row> rows = new LinkedHashMap<>();
    for (String jobId : jobIds) {
      rows.put(jobId, new Row(stored.get(jobId)));
    }
    for (Item item : items) {
      fold(rows, item);
    }
    List<JobIndexTable.Stored> inserts = new ArrayList<>();
    List<JobIndexTable.Stored> updates = new ArrayList<>();
    for (Row row : rows.values()) {
      if (row.changed) {
        (row.inTable ? updates : inserts).add(row.stored);
      }
    }
    JobIndexTable.insertAll(c, inserts);
    JobIndexTable.updateAll(c, updates);
  }

  private static void fold(Map<String, Row> rows, Item item) {
    String persistenceId = item.persistenceId();
    long seqNr = item.seqNr();
    if (!(item.event() instanceof Request.Event jobEvent)) {
      log.warn("Job index: skipped {} #{}, not a job event: {}", persistenceId, seqNr,
          item.event() == null ? null : item.event().getClass().getName());
      return;
    }
    Row row = rows.get(PersistenceId.extractEntityId(persistenceId));
    if (row.stored != null && seqNr <= row.stored.lastSeqNr()) {
      log.debug("Job index: {} #{} is in the row already", persistenceId, seqNr);
      return;
    }
    if (jobEvent instanceof Request.JobSubmitted submitted && row.stored == null) {
      row.stored = new JobIndexTable.Stored(JobSummary.submitted(submitted), seqNr);
      row.changed = true;
      return;
    }
    if (row.stored == null) {
      log.warn("Job index: skipped {} #{} ({}): the job has no row, its JobSubmitted was not seen", persistenceId,
          seqNr,
          jobEvent.getClass().getSimpleName());
      return;
    }
    var next = row.stored.summary().after(jobEvent);
    if (next.isEmpty()) {
      log.warn("Job index: skipped {} #{}: the fold does not know {}", persistenceId, seqNr,
          jobEvent.getClass().getSimpleName());
      return;
    }
    row.stored = new JobIndexTable.Stored(next.get(), seqNr);
    row.changed = true;
  }
}
