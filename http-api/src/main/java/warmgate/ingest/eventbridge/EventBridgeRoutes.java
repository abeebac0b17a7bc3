package warmgate.ingest.eventbridge;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.InvalidInput;
import warmgate.gateway.EndpointStates;
import warmgate.http.ApiErrors;
import warmgate.http.ApiKeys;
import warmgate.http.Authentication;
import warmgate.http.JsonResponses;
import warmgate.http.NotificationRoute;
import warmgate.ingest.Ingestion;
import warmgate.provider.PushedStates;

/**
 * {@code /v1/notifications/eventbridge}: one event per request, as an EventBridge API destination delivers
 * it. S3's {@code Object Created} starts a job like an S3 notification (answered once it is persisted);
 * SageMaker's {@code SageMaker Endpoint State Change} makes the endpoint's lifecycle reconcile at once.
 * Anything else is acknowledged and ignored, so a rule broader than needed does not make EventBridge
 * redeliver. Every answer comes before EventBridge's 5 s timeout: a journal slower than that gets 503, which
 * EventBridge retries.
 */
public final class EventBridgeRoutes extends AllDirectives implements NotificationRoute {
  private static final Logger log = LoggerFactory.getLogger(EventBridgeRoutes.class);
  /** EventBridge gives an API destination 5 s before it counts the delivery as failed. */
  static final Duration EVENTBRIDGE_TIMEOUT = Duration.ofSeconds(5);
  /** Bounds the memory spent on remembering which ignored event types were already logged. */
  private static final int MAX_REMEMBERED_TYPES = 1000;

  private final Ingestion ingestion;
  private final EndpointStates endpoints;
  private final List<PushedStates> pushedStates;
  private final ApiKeys keys;
  private final Duration requestTimeout;
  private final Set<String> loggedTypes = ConcurrentHashMap.newKeySet();

  /**
   * @param pushedStates what the providers that have their state changes pushed make of them
   * @param requestTimeout the longest a request may take, reading the body included; below 5 s
   */
  public EventBridgeRoutes(
      Ingestion ingestion, EndpointStates endpoints, List<PushedStates> pushedStates, ApiKeys keys,
          Duration requestTimeout) {
    if (requestTimeout.isNegative() || requestTimeout.isZero() || requestTimeout.compareTo(EVENTBRIDGE_TIMEOUT) >= 0) {
      throw new IllegalArgumentException(
          "warmgate.eventbridge.request-timeout must be above 0 and below EventBridge's 5 s, not "
          + requestTimeout.toMillis() + " ms");
    }
    this.ingestion = ingestion;
    this.endpoints = endpoints;
    this.pushedStates = List.copyOf(pushedStates);
    this.keys = keys;
    this.requestTimeout = requestTimeout;
    if (!keys.configured()) {
      log.warn("POST /v1/notifications/eventbridge refuses every request (403) until {} lists the SHA-256 of an API "
          + "key", keys.configKey());
    }
  }

  @Override
  public Route route(Authentication auth) {
    return pathPrefix("notifications", () -> path("eventbridge", () -> post(() ->
        withRequestTimeout(requestTimeout, request -> ApiErrors.unavailable(
                "the event could not be handled within " + requestTimeout.toMillis()
                    + " ms; nothing is lost, please retry"), () ->
            optionalHeaderValueByName(keys.header(), key -> switch (keys.check(key.orElse(null))) {
              case ACCEPTED -> entity(Unmarshaller.entityToByteArray(), this::event);
              case MISSING -> complete(unauthorized("send the API key in header " + keys.header()));
              case WRONG -> complete(unauthorized("the API key in header " + keys.header() + " is not accepted"));
              case UNCONFIGURED -> notConfigured();
            })))));
  }

  private Route event(byte[] body) {
    EventBridgeEvent event = EventBridgeParser.parse(body);
    if (event instanceof EventBridgeEvent.Upload upload) {
      return onSuccess(ingestion.ingest(List.of(upload.upload())),
          report -> complete(JsonResponses.json(StatusCodes.OK, report)));
    }
    if (event instanceof EventBridgeEvent.Unidentifiable unidentifiable) {
      log.debug("EventBridge event {}: s3://{}/{}: {}", event.id(), unidentifiable.skip().bucket(),
          unidentifiable.skip().key(),
          unidentifiable.skip().reason());
      return complete(JsonResponses.json(StatusCodes.OK, new Ingestion.Report(List.of(),
          List.of(unidentifiable.skip()))));
    }
    if (event instanceof EventBridgeEvent.EndpointStateChange change) {
      return stateChange(change);
    }
    var ignored = (EventBridgeEvent.Ignored) event;
    String type = ignored.source() + " / " + ignored.detailType();
    if (loggedTypes.size() < MAX_REMEMBERED_TYPES && loggedTypes.add(type)) {
      log.info("Ignoring EventBridge events of type {} (first one: {}); the rule sending them is broader than Warmgate "
          + "needs", type, event.id());
    }
    return complete(JsonResponses.json(StatusCodes.OK,
        EventReport.ignored("Warmgate acts on aws.s3 / Object Created and aws.sagemaker / SageMaker Endpoint State "
            + "Change, not " + type)));
  }

  private Route stateChange(EventBridgeEvent.EndpointStateChange change) {
    var pushed = pushedStates.stream().filter(p -> p.source().equals(EventBridgeParser.SAGEMAKER_SOURCE)).findFirst();
    if (pushed.isEmpty()) {
      return complete(JsonResponses.json(StatusCodes.OK,
          EventReport.ignored("no provider takes state changes from " + EventBridgeParser.SAGEMAKER_SOURCE)));
    }
    String platform = pushed.get().platform();
    PushedStates.Change resolved;
    try {
      resolved = pushed.get().resolve(change.endpointName(), change.status(), change.failureReason());
    } catch (IllegalArgumentException e) {
      throw new InvalidInput("invalid_notification", "detail.EndpointStatus '" + change.status() + "' is not a status "
          + platform + " documents");
    }
    List<String> targets = resolved.endpoints();
    if (targets.isEmpty()) {
      log.debug("EventBridge event {}: {} endpoint {} is {}; no configured endpoint is bound to it", change.id(),
          platform,
          change.endpointName(), change.status());
      return complete(JsonResponses.json(StatusCodes.OK,
          EventReport.ignored("no configured endpoint is bound to " + platform + " endpoint "
              + change.endpointName())));
    }
    targets.forEach(name -> endpoints.providerReported(name, change.status()));
    return complete(JsonResponses.json(StatusCodes.OK, new EventReport(false,
        platform + " reports " + change.status() + "; the endpoint describes " + platform + " now to confirm",
            targets)));
  }

  private Route notConfigured() {
    log.warn("Refused an EventBridge delivery: no API key is configured; set {} to the SHA-256 of the key the "
        + "EventBridge connection sends",
        keys.configKey());
    return complete(JsonResponses.error(StatusCodes.FORBIDDEN, "not_configured",
        "no API key is configured for EventBridge deliveries; set " + keys.configKey()
            + " to the SHA-256 (hex) of the key the EventBridge connection sends in header " + keys.header()));
  }

  private org.apache.pekko.http.javadsl.model.HttpResponse unauthorized(String message) {
    return JsonResponses.error(StatusCodes.UNAUTHORIZED, "unauthorized", message)
        .addHeader(RawHeader.create("WWW-Authenticate", "ApiKey header=\"" + keys.header() + "\""));
  }

  /**
   * The answer to an event that starts no job.
   *
   * @param endpoints the configured endpoints told about a state change; empty when ignored
   */
  record EventReport(boolean ignored, String reason, List<String> endpoints) {
    static EventReport ignored(String reason) {
      return new EventReport(true, reason, List.of());
    }
  }
}
