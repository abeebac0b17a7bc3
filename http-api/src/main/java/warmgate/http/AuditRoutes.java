package warmgate.http;

import java.util.Optional;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.InvalidInput;
import warmgate.audit.AuditLog;
import warmgate.audit.TimeRange;
import warmgate.auth.Principal;

/**
 * {@code GET /v1/audit/events?from=&to=}: every job and endpoint event of a time range as NDJSON, for admins.
 * The body streams as the journal is read, at the pace the client reads it, so a long range needs no memory.
 */
public final class AuditRoutes extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(AuditRoutes.class);
  static final ContentType NDJSON = MediaTypes.applicationWithFixedCharset("x-ndjson",
      HttpCharsets.UTF_8).toContentType();

  private final AuditLog audit;

  public AuditRoutes(AuditLog audit) {
    this.audit = audit;
  }

  /** The routes as {@code principal} may use them. */
  public Route route(Principal principal) {
    return pathPrefix("audit", () -> path("events", () -> get(() -> {
      // Before the parameters, so a principal that may not read the log learns nothing from its errors.
      principal.requireAdmin("reading the audit log");
      return parameterOptional("from", from -> parameterOptional("to", to -> events(range(from, to))));
    })));
  }

  private static TimeRange range(Optional<String> from, Optional<String> to) {
    try {
      return TimeRange.parse(from.orElse(null), to.orElse(null));
    } catch (IllegalArgumentException e) {
      throw new InvalidInput("invalid_query", e.getMessage());
    }
  }

  private Route events(TimeRange range) {
    return onSuccess(audit.events(range),
        events -> complete(HttpResponse.create().withEntity(HttpEntities.createChunked(NDJSON,
        events.map(event -> ByteString.fromString(event.line()))
            // Too late for an error status: the client sees the body end without its last chunk.
            .watchTermination((mat, done) -> done.whenComplete((ok, failure) -> {
              if (failure != null) {
                log.warn("Audit export of {} broke off: {}", range, failure.toString());
              }
            }))))));
  }
}
