package warmgate.audit;

import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/** What {@code GET /v1/audit/events} needs: the events of jobs and endpoints in a time range. */
public interface AuditLog {

  /**
   * Every job and endpoint event whose journal timestamp is in {@code range}, in journal order. The stage
   * completes once the range has been located (a failure there can still be answered with an error); the
   * source then streams, pulled as fast as its consumer reads.
   */
  CompletionStage<Source<AuditEvent, NotUsed>> events(TimeRange range);
}
