package warmgate.blob.s3;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import warmgate.blob.BlobRefusedException;
import warmgate.job.ObjectRef;

// S3BlobStore's reading of S3's errors, on exceptions built with the SDK's builders; no server.
class S3RefusalTest {
  private static final ObjectRef REF = new ObjectRef("gen3d", "users/alice/output/cat_error.json");

  private static S3Exception s3(int status, String code) {
    return (S3Exception) S3Exception.builder()
        .statusCode(status)
        .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage("from the test").build())
        .message(code)
        .build();
  }

  @Test
  void answersThatNeverChangeAreRefusals() {
    assertThat(S3BlobStore.isRefusal(s3(404, "NoSuchBucket"))).isTrue();
    assertThat(S3BlobStore.isRefusal(s3(400, "InvalidBucketName"))).isTrue();
    assertThat(S3BlobStore.isRefusal(s3(400, "KeyTooLongError"))).isTrue();
    assertThat(S3BlobStore.isRefusal(s3(400, "InvalidArgument"))).isTrue();
    assertThat(S3BlobStore.isRefusal(s3(400, "InvalidURI"))).isTrue();
    assertThat(S3BlobStore.isRefusal(s3(400, "EntityTooLarge"))).isTrue();
    NoSuchBucketException typed = (NoSuchBucketException) NoSuchBucketException.builder()
        .statusCode(404).awsErrorDetails(AwsErrorDetails.builder().errorCode("NoSuchBucket").build()).build();
    assertThat(S3BlobStore.isRefusal(typed)).isTrue();
  }

  @Test
  void permissionsLoadServerFaultsAndPassingClientErrorsStayTransient() {
    assertThat(S3BlobStore.isRefusal(s3(403, "AccessDenied"))).as("permissions can be granted").isFalse();
    assertThat(S3BlobStore.isRefusal(s3(403, "InvalidArgument"))).as("403 never, whatever the code").isFalse();
    assertThat(S3BlobStore.isRefusal(s3(408, "RequestTimeout"))).isFalse();
    assertThat(S3BlobStore.isRefusal(s3(429, "SlowDown"))).isFalse();
    assertThat(S3BlobStore.isRefusal(s3(500, "InternalError"))).isFalse();
    assertThat(S3BlobStore.isRefusal(s3(503, "SlowDown"))).isFalse();
    assertThat(S3BlobStore.isRefusal(s3(400, "RequestTimeout"))).as("S3's idle-connection 400").isFalse();
    assertThat(S3BlobStore.isRefusal(s3(400, "ExpiredToken"))).isFalse();
    assertThat(S3BlobStore.isRefusal(s3(400, "BadDigest"))).isFalse();
    assertThat(S3BlobStore.isRefusal(s3(404, "NoSuchKey"))).isFalse();
    assertThat(S3BlobStore.isRefusal((S3Exception) S3Exception.builder().statusCode(400).message("no body").build()))
        .as("a 400 without a code (a HEAD has no body)").isFalse();
  }

  @Test
  void aRefusalBecomesBlobRefusedExceptionNamingTheCodeAndOthersPassUnchanged() {
    Throwable refused = S3BlobStore.classify(REF, new CompletionException(s3(400, "KeyTooLongError")));
    assertThat(refused).isInstanceOf(BlobRefusedException.class).hasMessageContaining(REF.toString())
        .hasMessageContaining("400 KeyTooLongError");
    assertThat(((BlobRefusedException) refused).ref()).isEqualTo(REF);

    S3Exception throttled = s3(503, "SlowDown");
    assertThat(S3BlobStore.classify(REF, new CompletionException(throttled))).isSameAs(throttled);
    SdkClientException timeout = SdkClientException.create("Unable to execute HTTP request: connect timed out");
    assertThat(S3BlobStore.classify(REF, timeout)).isSameAs(timeout);
  }
}
