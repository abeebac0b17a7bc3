package warmgate.ingest.eventbridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import warmgate.Fixtures;
import warmgate.InvalidInput;
import warmgate.ingest.ObjectCreated;

// No I/O: parses fixtures written from AWS's documented EventBridge events (S3 Object Created, SageMaker Endpoint State
// Change).
class EventBridgeParserTest {

  private static EventBridgeEvent parse(String json) {
    return EventBridgeParser.parse(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void objectCreatedBecomesAnUploadWithTheKeyAsIsNotUrlDecoded() {
    var event = (EventBridgeEvent.Upload) EventBridgeParser.parse(Fixtures.bytes("eventbridge/s3-object-created.json"));

    assertThat(event.id()).isEqualTo("17793124-05d4-b198-2fde-7ededc63b103");
    assertThat(event.upload()).isEqualTo(new ObjectCreated(
        "gen3d",
        "users/alice/input/my cat+1_image.png",
        "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
        "b1946ac92492d2347c6235b4d2611184",
        5,
        "00617F08299329D189",
        Instant.parse("2026-11-20T10:15:30Z")));
  }

  @Test
  void percentSignsInKeysAreKeptToo() {
    var event = (EventBridgeEvent.Upload) parse("""
        {"source":"aws.s3","detail-type":"Object Created","time":"2026-11-20T10:15:30Z",
         "detail":{"bucket":{"name":"b"},"object":{"key":"100%25 done.png","etag":"e"}}}""");

    assertThat(event.upload().key()).isEqualTo("100%25 done.png");
    assertThat(event.upload().versionId()).isNull();
    assertThat(event.upload().size()).isZero();
  }

  @Test
  void objectCreatedWithoutEtagOrVersionIsReportedNotStarted() {
    var event = parse("""
        {"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"b"},"object":{"key":"k.png",\
        "size":3}}}""");

    assertThat(event).isInstanceOf(EventBridgeEvent.Unidentifiable.class);
    assertThat(((EventBridgeEvent.Unidentifiable) event).skip().reason()).contains("neither a version-id nor an etag");
  }

  @Test
  void sageMakerStateChangeCarriesTheEndpointNameAndStatusAsSent() {
    var event = EventBridgeParser.parse(Fixtures.bytes("eventbridge/sagemaker-endpoint-in-service.json"));

    assertThat(event).isEqualTo(new EventBridgeEvent.EndpointStateChange(
        "d2921b5a-b0ad-cace-a8e3-0f159d018e06", "gen3d-prod", "IN_SERVICE", null));
  }

  @Test
  void otherSourcesAndTypesAreIgnored() {
    var ec2 = EventBridgeParser.parse(Fixtures.bytes("eventbridge/ec2-instance-state-change.json"));
    var s3Deleted = parse("""
        {"source":"aws.s3","detail-type":"Object Deleted","detail":{"bucket":{"name":"b"},"object":{"key":"k"}}}""");
    var trainingJob = parse("""
        {"source":"aws.sagemaker","detail-type":"SageMaker Training Job State Change","detail":{}}""");

    assertThat(ec2).isEqualTo(new EventBridgeEvent.Ignored(
        "7bf73129-1428-4cd3-a780-95db273d1602", "aws.ec2", "EC2 Instance State-change Notification"));
    assertThat(s3Deleted).isInstanceOf(EventBridgeEvent.Ignored.class);
    assertThat(trainingJob).isInstanceOf(EventBridgeEvent.Ignored.class);
  }

  @Test
  void timeMayBeEpochMillisAsInSageMakersOwnExample() {
    var event = (EventBridgeEvent.Upload) parse("""
        {"source":"aws.s3","detail-type":"Object Created","time":"1583831889050",
         "detail":{"bucket":{"name":"b"},"object":{"key":"k","etag":"e"}}}""");

    assertThat(event.upload().eventTime()).isEqualTo(Instant.ofEpochMilli(1583831889050L));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "[]",
      "\"text\"",
      "{}",
      "{\"source\":\"aws.s3\"}",
      "{\"source\":3,\"detail-type\":\"Object Created\"}",
      "{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\"}",
      "{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"detail\":[]}",
      "{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"detail\":{\"bucket\":{},\"object\":{\"key\":\"k\""
          + ",\"etag\":\"e\"}}}",
      "{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"detail\":{\"bucket\":{\"name\":\"b\"},\"object\":"
          + "{\"key\":\"\",\"etag\":\"e\"}}}",
      "{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"detail\":{\"bucket\":{\"name\":\"b\"},\"object\":"
          + "{\"key\":\"k\",\"etag\":\"e\",\"size\":-1}}}",
      "{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"detail\":{\"bucket\":{\"name\":\"b\"},\"object\":"
          + "{\"key\":\"k\",\"etag\":\"e\",\"size\":\"5\"}}}",
      "{\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"time\":\"yesterday\",\"detail\":{\"bucket\":{\"na"
          + "me\":\"b\"},\"object\":{\"key\":\"k\",\"etag\":\"e\"}}}",
      "{\"source\":\"aws.sagemaker\",\"detail-type\":\"SageMaker Endpoint State Change\",\"detail\":{\"EndpointNam"
          + "e\":\"x\"}}",
      "{\"source\":\"aws.sagemaker\",\"detail-type\":\"SageMaker Endpoint State Change\",\"detail\":{\"EndpointStatu"
          + "s\":\"IN_SERVICE\"}}"})
  void malformedEventsAreInvalidNotifications(String json) {
    assertThatThrownBy(() -> parse(json))
        .isInstanceOfSatisfying(InvalidInput.class, e -> assertThat(e.code()).isEqualTo("invalid_notification"));
  }

  @Test
  void emptyOrBrokenJsonIsInvalidJson() {
    assertThatThrownBy(() -> parse("")).isInstanceOfSatisfying(InvalidInput.class,
        e -> assertThat(e.code()).isEqualTo("invalid_json"));
    assertThatThrownBy(() -> parse("{\"source\":")).isInstanceOfSatisfying(InvalidInput.class,
        e -> assertThat(e.code()).isEqualTo("invalid_json"));
  }
}
