package warmgate.audit;

import java.time.Instant;

/**
 * One event as the journal keeps it.
 *
 * @param entity {@code Request} or {@code EndpointLifecycle}
 * @param id the job id or the endpoint name
 * @param ordering its place in the whole journal (pekko-persistence-jdbc's {@code ordering})
 * @param timestamp when the journal wrote it (milliseconds)
 * @param event the event itself, deserialized
 */
public record StoredEvent(String entity, String id, long seqNr, long ordering, Instant timestamp, Object event) {}
