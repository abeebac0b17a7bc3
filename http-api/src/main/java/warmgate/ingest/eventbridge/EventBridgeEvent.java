package warmgate.ingest.eventbridge;

import warmgate.ingest.ObjectCreated;
import warmgate.ingest.Skip;

/** What one EventBridge event delivered to {@code POST /v1/notifications/eventbridge} says, once parsed. */
public sealed interface EventBridgeEvent {

  /** The envelope's {@code id}: EventBridge's own, the same on a redelivery. May be null. */
  String id();

  /** {@code aws.s3} / {@code Object Created}: an upload, to be routed like one from an S3 event. */
  record Upload(String id, ObjectCreated upload) implements EventBridgeEvent {}

  /** {@code aws.s3} / {@code Object Created} without an eTag or a version id: it cannot be told apart from another
   * upload. */
  record Unidentifiable(String id, Skip skip) implements EventBridgeEvent {}

  /**
   * {@code aws.sagemaker} / {@code SageMaker Endpoint State Change}.
   *
   * @param status SageMaker's word as sent ({@code IN_SERVICE}); not yet checked against the documented ones
   * @param failureReason null unless SageMaker gave one
   */
  record EndpointStateChange(String id, String endpointName, String status,
      String failureReason) implements EventBridgeEvent {}

  /** Any other source or detail type: a broader rule than Warmgate needs. Acknowledged, never acted on. */
  record Ignored(String id, String source, String detailType) implements EventBridgeEvent {}
}
