package warmgate.ingest.s3;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import warmgate.http.Authentication;
import warmgate.http.JsonResponses;
import warmgate.http.NotificationRoute;
import warmgate.ingest.Ingestion;
import warmgate.ingest.Skip;

/**
 * {@code /v1/notifications/s3}: uploads reported by S3 in its own event format, posted by a forwarder holding an
 * admin token (SNS delivers the same events through {@code warmgate.ingest.sns}). Answered 200 only once every
 * job they start is persisted; a failure answers 5xx so the sender delivers again, and what already made it
 * comes back as a duplicate.
 */
public final class S3Routes extends AllDirectives implements NotificationRoute {
  private final Ingestion ingestion;

  public S3Routes(Ingestion ingestion) {
    this.ingestion = ingestion;
  }

  @Override
  public Route route(Authentication auth) {
    return pathPrefix("notifications", () -> path("s3", () -> post(() -> auth.admin("posting raw S3 notifications",
        () ->
        entity(Unmarshaller.entityToByteArray(), body -> ingest(S3EventParser.parse(body)))))));
  }

  /** Starts the jobs of a parsed S3 event, however it arrived, and answers with what was accepted and skipped. */
  public Route ingest(S3Notification notification) {
    if (notification instanceof S3Notification.TestEvent) {
      return complete(JsonResponses.json(StatusCodes.OK, new TestEventReport(List.of(), List.of(), true)));
    }
    S3Notification.Batch batch = (S3Notification.Batch) notification;
    return onSuccess(ingestion.ingest(batch.uploads()), report -> {
      List<Skip> skipped = new ArrayList<>(batch.skipped());
      skipped.addAll(report.skipped());
      return complete(JsonResponses.json(StatusCodes.OK, new Ingestion.Report(report.accepted(), skipped)));
    });
  }

  /** What {@code s3:TestEvent} is answered with: nothing accepted, and a word that it was seen. */
  record TestEventReport(List<Ingestion.Accepted> accepted, List<Skip> skipped, boolean testEvent) {}
}
