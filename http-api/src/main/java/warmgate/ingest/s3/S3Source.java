package warmgate.ingest.s3;

import warmgate.ingest.IngestionSource;

/** Raw S3 event notifications, posted by a forwarder that holds an admin token: {@code /v1/notifications/s3}. */
public final class S3Source implements IngestionSource {

  @Override
  public Started start(Node node) {
    return Started.route(new S3Routes(node.ingestion()));
  }
}
