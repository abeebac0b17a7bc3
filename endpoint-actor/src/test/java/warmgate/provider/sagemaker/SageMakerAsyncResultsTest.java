// No I/O: SageMaker Asynchronous Inference's SNS messages, as AWS documents them.
package warmgate.provider.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import warmgate.job.ObjectRef;
import warmgate.provider.AsyncResult;

class SageMakerAsyncResultsTest {

  private static final String SUCCESS = InferenceResults.SUCCESS;
  private static final String ERROR = InferenceResults.ERROR;

  // An S3 event notification as S3 sends it through SNS (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
  // notification-content-structure.html), shortened: it must not be taken for an inference result.
  private static final String S3_EVENT = """
      {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
        "eventTime":"1970-01-01T00:00:00.000Z","eventName":"ObjectCreated:Put",
        "s3":{"s3SchemaVersion":"1.0","bucket":{"name":"bucket"},"object":{"key":"output_directory/prediction.out"}}}]}
      """;

  private final SageMakerAsyncResults format = new SageMakerAsyncResults();

  @Test
  void readsTheDocumentedSuccessNotification() {
    assertThat(format.parse(SUCCESS)).contains(new AsyncResult("11111111-2222-3333-4444-555555555555", true,
        new ObjectRef("bucket", "output_directory/prediction.out"), null));
  }

  @Test
  void readsTheDocumentedErrorNotification() {
    AsyncResult result = format.parse(ERROR).orElseThrow();

    assertThat(result.inferenceId()).isEqualTo("11111111-2222-3333-4444-555555555555");
    assertThat(result.succeeded()).isFalse();
    assertThat(result.location()).isNull();
    assertThat(result.failureReason()).startsWith("ClientError: Received server error (500) from model.");
  }

  @Test
  void readsAFailureLocationWhenTheNotificationHasOne() {
    String withLocation = ERROR.replace("\"inferenceId\"",
        "\"responseParameters\":{\"failureLocation\":\"s3://bucket/failures/x-error.out\"},\"inferenceId\"");

    assertThat(format.parse(withLocation).orElseThrow().location())
        .isEqualTo(new ObjectRef("bucket", "failures/x-error.out"));
  }

  @Test
  void leavesMessagesThatAreNotSageMakerInferenceResultsAlone() {
    assertThat(format.parse(S3_EVENT)).isEmpty();
    assertThat(format.parse("not json at all")).isEmpty();
    assertThat(format.parse("[1, 2]")).isEmpty();
    assertThat(format.parse(SUCCESS.replace("InferenceResult", "SomethingElse"))).isEmpty();
  }

  @Test
  void refusesAnInferenceResultWithoutAnIdOrAKnownStatus() {
    assertThatThrownBy(() -> format.parse(SUCCESS.replace("\"inferenceId\"", "\"otherId\"")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("inferenceId");
    assertThatThrownBy(() -> format.parse(SUCCESS.replace("\"Completed\"", "\"Pending\"")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Pending");
  }

  @Test
  void theAsyncKindAnnouncesThisFormat() {
    assertThat(new SageMakerAsyncProvider().asyncResults()).containsInstanceOf(SageMakerAsyncResults.class);
    assertThat(new SageMakerProvider().asyncResults()).isEmpty();
  }
}
