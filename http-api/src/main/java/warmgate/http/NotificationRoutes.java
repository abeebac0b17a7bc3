package warmgate.http;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import warmgate.notification.S3EventParser;
import warmgate.notification.S3Notification;
import warmgate.notification.Skip;
import warmgate.service.Ingestion;

/**
 * {@code /v1/notifications/...}: uploads reported by S3. Answered 200 only once every job they start is
 * persisted; a failure answers 5xx so the sender delivers again, and what already made it comes back as
 * a duplicate.
 */
public final class NotificationRoutes extends AllDirectives {
  private final Ingestion ingestion;
  private final SnsRoutes sns;

  public NotificationRoutes(Ingestion ingestion) {
    this(ingestion, null);
  }

  /** @param sns {@code /v1/notifications/sns}; null leaves that path out */
  public NotificationRoutes(Ingestion ingestion, SnsRoutes sns) {
    this.ingestion = ingestion;
    this.sns = sns;
  }

  /**
   * Each route authenticates on its own: raw S3 events come from forwarders holding an admin token, while
   * SNS and EventBridge deliveries prove where they come from in their own way.
   */
  public Route route(Authentication auth) {
    Route s3 = path("s3", () -> post(() -> auth.admin("posting raw S3 notifications", () ->
        entity(Unmarshaller.entityToByteArray(), body -> ingest(S3EventParser.parse(body))))));
    return pathPrefix("notifications", () -> sns == null ? s3 : concat(s3, sns.route(this::ingest)));
  }

  /** Starts the jobs of a parsed S3 event, however it arrived, and answers with what was accepted and skipped. */
  private Route ingest(S3Notification notification) {
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
