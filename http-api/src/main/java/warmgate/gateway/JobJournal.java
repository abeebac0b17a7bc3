package warmgate.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** A job's events as they are stored, for {@code GET /v1/jobs/{id}/events} and audits. */
public interface JobJournal {

  /** In order; empty when no job has this id. */
  CompletionStage<List<Entry>> events(String jobId);

  /** One stored event: {@code type} is the event's name, {@code data} its fields. */
  record Entry(long seqNr, Instant timestamp, String type, JsonNode data) {}
}
