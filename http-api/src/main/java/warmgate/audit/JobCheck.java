package warmgate.audit;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import warmgate.request.Request;
import warmgate.request.RequestState;

/**
 * Whether a job's row in {@code job_index} says what its journal says. The journal side is the job rebuilt
 * with {@link Request#replay}, the entity's own event handler, so the check cannot disagree with the entity.
 */
final class JobCheck {
  private JobCheck() {}

  /**
   * What differs, one sentence each; empty when the row matches. Compared: status, endpoint, owner, attempts,
   * created_at and updated_at to the microsecond, and last_seq_nr against the newest event's sequence number.
   *
   * @param events the job's events, oldest first (empty: the journal has no such job)
   * @param row its row (empty: the index has none)
   */
  static List<String> differences(List<StoredEvent> events, Optional<IndexedJobs.Row> row) {
    RequestState state = RequestState.replay(events.stream().map(e -> (Request.Event) e.event()).toList());
    if (!(state instanceof RequestState.Job job)) {
      return List.of(row.isPresent() ? "in job_index, but the journal has no event of it"
          : "neither the journal nor job_index has it");
    }
    long lastSeqNr = events.get(events.size() - 1).seqNr();
    if (row.isEmpty()) {
      return List.of("missing from job_index; the journal has " + events.size() + " event(s) and says " + job.status());
    }
    IndexedJobs.Row indexed = row.get();
    RequestState.JobCore core = job.core();
    List<String> differences = new ArrayList<>();
    compare(differences, "status", job.status().name(), indexed.status());
    compare(differences, "endpoint", core.spec().endpoint(), indexed.endpoint());
    compare(differences, "owner", core.spec().owner(), indexed.owner());
    compare(differences, "attempts", core.attempts(), indexed.attempts());
    if (!sameMicrosecond(core.createdAt(), indexed.createdAt())) {
      compare(differences, "created_at", core.createdAt(), indexed.createdAt());
    }
    if (!sameMicrosecond(core.updatedAt(), indexed.updatedAt())) {
      compare(differences, "updated_at", core.updatedAt(), indexed.updatedAt());
    }
    compare(differences, "last_seq_nr", lastSeqNr, indexed.lastSeqNr());
    return differences;
  }

  /**
   * Databases keep microseconds: PostgreSQL and H2 round the nanoseconds away, a projection may truncate them;
   * either is the same instant as far as the index can tell.
   */
  static boolean sameMicrosecond(Instant journal, Instant indexed) {
    if (journal == null || indexed == null) {
      return journal == indexed;
    }
    Instant truncated = journal.truncatedTo(ChronoUnit.MICROS);
    Instant rounded = journal.plusNanos(500).truncatedTo(ChronoUnit.MICROS);
    return indexed.equals(truncated) || indexed.equals(rounded);
  }

  private static void compare(List<String> differences, String column, Object journal, Object indexed) {
    if (!Objects.equals(journal, indexed)) {
      differences.add(column + ": journal " + journal + ", job_index " + indexed);
    }
  }
}
