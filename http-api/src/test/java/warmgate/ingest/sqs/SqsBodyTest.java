package warmgate.ingest.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import warmgate.InvalidInput;
import warmgate.ingest.sns.SnsFixture;
import warmgate.provider.AsyncResult;

// No server: what a body on a queue is read as.
class SqsBodyTest {
  private static final String ETAG = "0123456789abcdef0123456789abcdef";

  private static SqsBody read(String body) {
    return SqsBody.read(body, message -> Optional.empty());
  }

  @Test
  void readsAnS3EventAsS3SendsItAndAsSnsRawDeliveryDoes() {
    var body = (SqsBody.Uploads) read(SqsBodies.s3Event("gen3d", "users/a/input/x y_image.png", ETAG));
    assertThat(body.uploads()).singleElement().satisfies(u -> {
      assertThat(u.key()).isEqualTo("users/a/input/x y_image.png");
      assertThat(u.eTag()).isEqualTo(ETAG);
    });
  }

  @Test
  void readsTheS3EventInsideAnSnsEnvelopeWithoutAskingForItsSignature() {
    var body = (SqsBody.Uploads) read(SqsBodies.snsEnvelope(SqsBodies.s3Event("gen3d", "users/a/input/b.png", ETAG)));
    assertThat(body.uploads()).singleElement().satisfies(u -> assertThat(u.key()).isEqualTo("users/a/input/b.png"));
  }

  @Test
  void readsAnEventBridgeObjectCreatedEventWithItsKeyAsUploaded() {
    var body = (SqsBody.Uploads) read(SqsBodies.eventBridge("gen3d", "users/a/input/a+b.png", ETAG));
    assertThat(body.uploads()).singleElement().satisfies(u -> assertThat(u.key()).isEqualTo("users/a/input/a+b.png"));
  }

  @Test
  void readsTheTestEventDirectAndInsideAnEnvelope() {
    assertThat(read(SqsBodies.TEST_EVENT)).isEqualTo(new SqsBody.TestEvent("gen3d"));
    assertThat(read(SqsBodies.snsEnvelope(SqsBodies.TEST_EVENT))).isEqualTo(new SqsBody.TestEvent("gen3d"));
  }

  @Test
  void offersEveryEnvelopesMessageAndEveryRawBodyToTheAsyncResultsFirst() {
    var result = new AsyncResult("job-1", true, null, null);
    List<String> offered = new java.util.ArrayList<>();
    SqsBody body = SqsBody.read(SqsBodies.snsEnvelope("{\"inference\":1}"), message -> {
      offered.add(message);
      return Optional.of(result);
    });
    assertThat(body).isEqualTo(new SqsBody.Result(result));
    assertThat(offered).containsExactly("{\"inference\":1}");
    assertThat(SqsBody.read("{\"raw\":2}", message -> Optional.of(result))).isEqualTo(new SqsBody.Result(result));
  }

  @Test
  void aResultThatCannotBeUsedIsUnusable() {
    SqsBody body = SqsBody.read("{\"raw\":2}", message -> {
      throw new InvalidInput("invalid_async_result", "no inferenceId");
    });
    assertThat(body).isEqualTo(new SqsBody.Unusable("no inferenceId"));
  }

  @Test
  void anythingElseIsUnusableWithTheReason() {
    assertThat(read("not json")).isInstanceOf(SqsBody.Unusable.class);
    assertThat(read("[1,2]")).isInstanceOf(SqsBody.Unusable.class);
    assertThat(((SqsBody.Unusable) read("{\"hello\":1}")).reason()).contains("neither an S3 event notification");
    assertThat(((SqsBody.Unusable) read("{\"Records\":[{\"eventSource\":\"aws:sqs\"}]}")).reason())
        .contains("expected aws:s3");
    assertThat(((SqsBody.Unusable) read(SqsBodies.snsEnvelope("not an event"))).reason()).contains("not valid JSON");
    String confirmation = new String(SnsFixture.bytes(SnsFixture.confirmation("SubscriptionConfirmation")),
        java.nio.charset.StandardCharsets.UTF_8);
    assertThat(((SqsBody.Unusable) read(confirmation)).reason()).contains("confirm-subscription");
  }

  @Test
  void otherEventBridgeEventsAreIgnoredByType() {
    String event = """
        {"version":"0","id":"1","detail-type":"Object Deleted","source":"aws.s3","detail":{}}""";
    assertThat(read(event)).isEqualTo(new SqsBody.Ignored("aws.s3 / Object Deleted"));
  }
}
