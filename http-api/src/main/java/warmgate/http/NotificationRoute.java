package warmgate.http;

import org.apache.pekko.http.javadsl.server.Route;

/**
 * A door under {@code /v1/notifications} through which an ingestion source delivers uploads or state changes.
 * Each authenticates on its own: raw S3 events come from forwarders holding an admin token, while SNS and
 * EventBridge deliveries prove where they come from in their own way.
 */
public interface NotificationRoute {

  /** The route, starting at {@code notifications}; {@code auth} is there for senders that hold a Warmgate token. */
  Route route(Authentication auth);
}
