package warmgate.audit;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import warmgate.Json;

/**
 * One line of the audit export ({@code GET /v1/audit/events}, {@code warmgate audit export}).
 *
 * @param entity {@code Request} or {@code EndpointLifecycle}
 * @param id the job id or the endpoint name
 * @param timestamp when the journal wrote the event; its facts carry their own {@code at}
 * @param type the event's name
 * @param data the event's fields
 */
@JsonPropertyOrder({"entity", "id", "seqNr", "timestamp", "type", "data"})
public record AuditEvent(String entity, String id, long seqNr, Instant timestamp, String type, JsonNode data) {

  public static AuditEvent of(StoredEvent stored) {
    return new AuditEvent(stored.entity(), stored.id(), stored.seqNr(), stored.timestamp(),
        stored.event().getClass().getSimpleName(), Json.mapper().valueToTree(stored.event()));
  }

  /** The event as one line of NDJSON, newline included. */
  public String line() {
    try {
      return Json.mapper().writeValueAsString(this) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("an event could not be written as JSON", e);
    }
  }
}
