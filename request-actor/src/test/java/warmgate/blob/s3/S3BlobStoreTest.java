package warmgate.blob.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import warmgate.blob.Blob;
import warmgate.blob.BlobInfo;
import warmgate.blob.BlobNotFoundException;
import warmgate.blob.BlobRefusedException;
import warmgate.blob.Md5;
import warmgate.config.BlobStoreSettings;
import warmgate.job.ObjectRef;

// A real S3 wire-protocol server (S3Proxy, in memory) in this JVM; the store talks to it through the real SDK
// client, built from settings exactly as Warmgate builds it in production.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class S3BlobStoreTest {
  private static final String ACCESS_KEY = "test-access";
  private static final String SECRET_KEY = "test-secret";
  private static final String BUCKET = "gen3d";

  private TransientNio2BlobStore backend;
  private S3Proxy proxy;
  private S3BlobStore store;

  @BeforeAll
  void startS3() throws Exception {
    backend = new TransientNio2BlobStore();
    proxy = S3Proxy.builder()
        .blobStore(backend)
        .endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
        // The SDK sends headers S3Proxy does not know (checksum algorithm, SDK retry info).
        .ignoreUnknownHeaders(true)
        .build();
    proxy.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!proxy.getState().equals("STARTED") && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(proxy.getState()).isEqualTo("STARTED");
    backend.createContainer(BUCKET);
    store = S3BlobStore.create(settings(ACCESS_KEY, SECRET_KEY));
  }

  @AfterAll
  void stopS3() throws Exception {
    if (store != null) {
      store.close();
    }
    if (proxy != null) {
      proxy.stop();
    }
  }

  private BlobStoreSettings settings(String accessKey, String secretKey) {
    return new BlobStoreSettings(
        "s3", Path.of("unused"), Duration.ZERO, "us-east-1",
        Optional.of("http://127.0.0.1:" + proxy.getPort()), true,
        Optional.ofNullable(accessKey), Optional.ofNullable(secretKey));
  }

  private static <T> T await(CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }

  @Test
  void deleteRemovesTheObjectAndDeletingAMissingObjectSucceeds() {
    ObjectRef ref = new ObjectRef(BUCKET, "users/alice/output/gone.ply");
    await(store.put(ref, "ply".getBytes(StandardCharsets.UTF_8), "model/ply", Map.of()));

    await(store.delete(ref));
    await(store.delete(ref));

    assertThat(await(store.head(ref))).isEmpty();
  }

  @Test
  void anObjectPutThroughTheStoreReadsBackWithTypeMetadataAndMd5ETag() {
    ObjectRef ref = new ObjectRef(BUCKET, "users/alice/output/cat.ply");
    byte[] content = "ply\nformat ascii 1.0\nend_header\n".getBytes(StandardCharsets.UTF_8);

    BlobInfo written = await(store.put(ref, content, "model/ply", Map.of("Warmgate-Job-Id", "j1")));

    assertThat(written).isEqualTo(new BlobInfo(ref, content.length, Md5.hex(content), "model/ply",
        Map.of("warmgate-job-id", "j1")));
    assertThat(await(store.head(ref))).contains(written);
    Blob read = await(store.get(ref));
    assertThat(read.content()).isEqualTo(content);
    assertThat(read.info()).isEqualTo(written);
  }

  @Test
  void anObjectUploadedByAnotherClientIsSeenWithItsETag() {
    ObjectRef ref = new ObjectRef(BUCKET, "users/bob/input/dog_image.png");
    backend.putBlob(
        PutObjectRequest.builder().bucket(BUCKET).key(ref.key())
            .contentType("image/png").build(),
        new ByteArrayInputStream("hello".getBytes(StandardCharsets.UTF_8)));

    BlobInfo info = await(store.head(ref)).orElseThrow();

    assertThat(info.size()).isEqualTo(5);
    assertThat(info.eTag()).isEqualTo("5d41402abc4b2a76b9719d911017c592");
    assertThat(info.contentType()).isEqualTo("image/png");
  }

  @Test
  void keysWithSpacesAndUnicodeRoundTrip() {
    ObjectRef ref = new ObjectRef(BUCKET, "users/zoë/input/my cat+1_image.png");

    await(store.put(ref, new byte[] {1, 2, 3}, "image/png", Map.of()));

    assertThat(await(store.get(ref)).content()).containsExactly(1, 2, 3);
  }

  @Test
  void aMissingKeyIsEmptyOnHeadAndNotFoundOnGet() {
    ObjectRef ref = new ObjectRef(BUCKET, "users/alice/input/none.png");

    assertThat(await(store.head(ref))).isEmpty();
    assertThatThrownBy(() -> await(store.get(ref)))
        .isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(BlobNotFoundException.class);
  }

  @Test
  void aMissingBucketIsNotFoundTooNotAStorageFault() {
    ObjectRef ref = new ObjectRef("no-such-bucket", "a.png");

    assertThat(await(store.head(ref))).isEmpty();
    assertThatThrownBy(() -> await(store.get(ref))).hasCauseInstanceOf(BlobNotFoundException.class);
  }

  @Test
  void aWriteIntoAMissingBucketIsRefusedForGood() {
    ObjectRef ref = new ObjectRef("no-such-bucket", "users/alice/output/cat_error.json");

    assertThatThrownBy(() -> await(store.put(ref, new byte[] {1}, "application/json", Map.of())))
        .hasCauseInstanceOf(BlobRefusedException.class)
        .hasMessageContaining("NoSuchBucket");
  }

  @Test
  void wrongCredentialsFailWithTheServersErrorSoTheJobRetries() {
    try (S3BlobStore wrong = S3BlobStore.create(settings(ACCESS_KEY, "not-the-secret"))) {
      ObjectRef ref = new ObjectRef(BUCKET, "users/alice/output/x.ply");

      assertThatThrownBy(() -> await(wrong.put(ref, new byte[] {1}, null, Map.of())))
          .hasCauseInstanceOf(S3Exception.class)
          .satisfies(e -> assertThat(((S3Exception) e.getCause()).statusCode()).isEqualTo(403));
      assertThat(await(store.head(ref))).isEmpty();
    }
  }

  @Test
  void halfGivenCredentialsAreRefusedAtStart() {
    assertThatThrownBy(() -> S3BlobStore.create(settings(ACCESS_KEY, null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("both access-key-id and secret-access-key");
  }
}
