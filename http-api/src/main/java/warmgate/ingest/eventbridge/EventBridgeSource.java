package warmgate.ingest.eventbridge;

import warmgate.http.ApiKeys;
import warmgate.ingest.IngestionSource;

/**
 * Events an EventBridge API destination posts ({@code warmgate.eventbridge}): S3's uploads, and the state changes of
 * providers whose platforms push them: {@code /v1/notifications/eventbridge}.
 */
public final class EventBridgeSource implements IngestionSource {

  @Override
  public Started start(Node node) {
    return Started.route(new EventBridgeRoutes(node.ingestion(), node.endpoints(), node.pushedStates(),
        ApiKeys.fromConfig(node.warmgate().getConfig("eventbridge"), "warmgate.eventbridge"),
        node.warmgate().getDuration("eventbridge.request-timeout")));
  }
}
