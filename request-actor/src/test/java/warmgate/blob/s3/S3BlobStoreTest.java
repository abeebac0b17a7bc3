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
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.s3.S3AsyncClient;
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
  void aCopyHasTheSameBytesAndContentTypeAndTheGivenMetadataInPlaceOfTheSources() {
    ObjectRef from = new ObjectRef(BUCKET, "users/alice/output/held/cat.ply");
    ObjectRef to = new ObjectRef(BUCKET, "users/alice/output/cat.ply");
    byte[] content = bytes(70_000, 1);
    await(store.put(from, content, "model/ply", Map.of("Warmgate-Job-Id", "j1", "warmgate-held", "yes")));

    BlobInfo copied = await(store.copy(from, to, Map.of("Warmgate-Job-Id", "j1", "Warmgate-Approved-By", "bob")));

    BlobInfo expected = new BlobInfo(to, content.length, Md5.hex(content), "model/ply",
        Map.of("warmgate-job-id", "j1", "warmgate-approved-by", "bob"));
    assertThat(copied).isEqualTo(expected);
    assertThat(await(store.head(to))).contains(expected);
    assertThat(await(store.get(to)).content()).isEqualTo(content);
    assertThat(await(store.head(from)).orElseThrow().metadata())
        .isEqualTo(Map.of("warmgate-job-id", "j1", "warmgate-held", "yes"));
  }

  @Test
  void aCopyOverAnExistingObjectReplacesItAndKeysWithSpacesAndUnicodeCopy() {
    ObjectRef from = new ObjectRef(BUCKET, "users/zoë/input/my cat+1_image.png");
    ObjectRef to = new ObjectRef(BUCKET, "users/zoë/output/my cat+1 copy.png");
    await(store.put(from, new byte[] {4, 5, 6}, "image/png", Map.of()));
    await(store.put(to, new byte[] {9}, "text/plain", Map.of("old", "1")));

    BlobInfo copied = await(store.copy(from, to, Map.of()));

    assertThat(copied).isEqualTo(new BlobInfo(to, 3, Md5.hex(new byte[] {4, 5, 6}), "image/png", Map.of()));
    assertThat(await(store.get(to)).content()).containsExactly(4, 5, 6);
    assertThat(await(store.head(to)).orElseThrow().metadata()).isEmpty();
  }

  @Test
  void copyingAMissingSourceIsNotFoundNamingTheSource() {
    ObjectRef from = new ObjectRef(BUCKET, "users/alice/input/none.png");
    ObjectRef to = new ObjectRef(BUCKET, "users/alice/output/none.png");

    assertThatThrownBy(() -> await(store.copy(from, to, Map.of())))
        .hasCauseInstanceOf(BlobNotFoundException.class)
        .satisfies(e -> assertThat(((BlobNotFoundException) e.getCause()).ref()).isEqualTo(from));
    assertThatThrownBy(() -> await(store.copy(new ObjectRef("no-such-bucket", "a.png"), to, Map.of())))
        .hasCauseInstanceOf(BlobNotFoundException.class);
    assertThat(await(store.head(to))).isEmpty();
  }

  @Test
  void aCopyIntoAMissingBucketIsRefusedForGoodNamingTheDestination() {
    ObjectRef from = new ObjectRef(BUCKET, "users/alice/output/to-nowhere.ply");
    ObjectRef to = new ObjectRef("no-such-bucket", "users/alice/output/cat.ply");
    await(store.put(from, new byte[] {1}, "model/ply", Map.of()));

    assertThatThrownBy(() -> await(store.copy(from, to, Map.of())))
        .hasCauseInstanceOf(BlobRefusedException.class)
        .hasMessageContaining("NoSuchBucket")
        .satisfies(e -> assertThat(((BlobRefusedException) e.getCause()).ref()).isEqualTo(to));
  }

  @Test
  void aCopyWithWrongCredentialsFailsWithTheServersErrorSoTheJobRetries() {
    ObjectRef from = new ObjectRef(BUCKET, "users/alice/output/denied.ply");
    ObjectRef to = new ObjectRef(BUCKET, "users/alice/output/denied copy.ply");
    await(store.put(from, new byte[] {1}, "model/ply", Map.of()));

    try (S3BlobStore wrong = S3BlobStore.create(settings(ACCESS_KEY, "not-the-secret"))) {
      assertThatThrownBy(() -> await(wrong.copy(from, to, Map.of())))
          .hasCauseInstanceOf(S3Exception.class)
          .satisfies(e -> assertThat(((S3Exception) e.getCause()).statusCode()).isEqualTo(403));
    }
    assertThat(await(store.head(to))).isEmpty();
  }

  @Test
  void aSourceAboveTheThresholdIsCopiedInPartsWithTheSameBytesTypeAndNewMetadata() {
    // S3 (and S3Proxy) refuse parts under 5 MiB but the last: six parts, more than are copied at once.
    long mib = 1024 * 1024;
    ObjectRef from = new ObjectRef(BUCKET, "users/alice/output/held/big mesh.glb");
    ObjectRef to = new ObjectRef(BUCKET, "users/alice/output/big mesh.glb");
    byte[] content = bytes((int) (25 * mib + 12_345), 2);
    await(store.put(from, content, "model/gltf-binary", Map.of("warmgate-held", "yes")));

    try (S3AsyncClient client = S3BlobStore.client(settings(ACCESS_KEY, SECRET_KEY));
        S3BlobStore parts = new S3BlobStore(client, mib, 5 * mib)) {
      BlobInfo copied = await(parts.copy(from, to, Map.of("Warmgate-Job-Id", "j2")));

      assertThat(copied.eTag()).as("a multipart upload's eTag").endsWith("-6").doesNotContain("\"");
      assertThat(copied).isEqualTo(
          new BlobInfo(to, content.length, copied.eTag(), "model/gltf-binary", Map.of("warmgate-job-id", "j2")));
      assertThat(await(store.head(to))).contains(copied);
      assertThat(await(store.get(to)).content()).isEqualTo(content);
      assertThat(client.listMultipartUploads(b -> b.bucket(BUCKET)).join().uploads()).isEmpty();
    }
  }

  @Test
  void aMultipartCopyThatFailsIsAbortedAndLeavesNoObject() {
    // Parts of 1 MiB: every part copy succeeds, and completing the upload is refused with EntityTooSmall.
    long mib = 1024 * 1024;
    ObjectRef from = new ObjectRef(BUCKET, "users/alice/output/held/small parts.glb");
    ObjectRef to = new ObjectRef(BUCKET, "users/alice/output/small parts.glb");
    await(store.put(from, bytes((int) (3 * mib), 3), "model/gltf-binary", Map.of()));

    try (S3AsyncClient client = S3BlobStore.client(settings(ACCESS_KEY, SECRET_KEY));
        S3BlobStore parts = new S3BlobStore(client, mib, mib)) {
      assertThatThrownBy(() -> await(parts.copy(from, to, Map.of())))
          .hasCauseInstanceOf(S3Exception.class)
          .satisfies(e -> assertThat(((S3Exception) e.getCause()).awsErrorDetails().errorCode())
              .isEqualTo("EntityTooSmall"));

      assertThat(await(store.head(to))).isEmpty();
      assertThat(client.listMultipartUploads(b -> b.bucket(BUCKET)).join().uploads()).isEmpty();
    }
  }

  @Test
  void aThresholdOrPartSizeBeyondS3sCopyLimitIsRefused() {
    try (S3AsyncClient client = S3BlobStore.client(settings(ACCESS_KEY, SECRET_KEY))) {
      long fiveGib = 5L * 1024 * 1024 * 1024;
      assertThatThrownBy(() -> new S3BlobStore(client, fiveGib + 1, fiveGib))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("threshold");
      assertThatThrownBy(() -> new S3BlobStore(client, fiveGib, 0))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("part size");
    }
  }

  private static byte[] bytes(int length, long seed) {
    byte[] content = new byte[length];
    new Random(seed).nextBytes(content);
    return content;
  }

  @Test
  void halfGivenCredentialsAreRefusedAtStart() {
    assertThatThrownBy(() -> S3BlobStore.create(settings(ACCESS_KEY, null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("both access-key-id and secret-access-key");
  }

  @Test
  void aStreamedPutUploadsTheWholeStreamWithItsMd5AndOpenStreamsItBack() throws Exception {
    ObjectRef ref = new ObjectRef(BUCKET, "users/alice/output/streamed.ply");
    byte[] content = bytes(3 * 1024 * 1024 + 17, 7); // several 64 KiB chunks of the spool, and a partial one
    boolean[] closed = {false};
    java.io.InputStream in = new ByteArrayInputStream(content) {
      @Override
      public void close() {
        closed[0] = true;
      }
    };
    java.util.Set<Path> spoolsBefore = spoolFiles();

    BlobInfo written = await(store.put(ref, in, "model/ply", Map.of("Warmgate-Attempt", "2")));

    assertThat(written).isEqualTo(new BlobInfo(ref, content.length, Md5.hex(content), "model/ply",
        Map.of("warmgate-attempt", "2")));
    assertThat(closed[0]).as("the store closes the stream it read").isTrue();
    assertThat(await(store.head(ref))).contains(written);
    try (java.io.InputStream opened = await(store.open(ref))) {
      assertThat(opened.readAllBytes()).isEqualTo(content);
    }
    assertThat(spoolFiles()).as("the temporary file is removed once uploaded").isSubsetOf(spoolsBefore);
  }

  @Test
  void aStreamedPutWhoseStreamFailsUploadsNothingAndRemovesItsTemporaryFile() throws Exception {
    ObjectRef ref = new ObjectRef(BUCKET, "users/alice/output/torn.ply");
    java.io.InputStream failing = new java.io.SequenceInputStream(new ByteArrayInputStream(bytes(200_000, 8)),
        new java.io.InputStream() {
          @Override
          public int read() throws java.io.IOException {
            throw new java.io.IOException("connection reset");
          }
        });
    java.util.Set<Path> spoolsBefore = spoolFiles();

    assertThatThrownBy(() -> await(store.put(ref, failing, "model/ply", Map.of())))
        .isInstanceOf(CompletionException.class)
        .hasStackTraceContaining("connection reset");

    assertThat(await(store.head(ref))).isEmpty();
    assertThat(spoolFiles()).isSubsetOf(spoolsBefore);
  }

  @Test
  void openingAMissingObjectIsNotFound() {
    assertThatThrownBy(() -> await(store.open(new ObjectRef(BUCKET, "users/alice/input/none.png"))))
        .isInstanceOf(CompletionException.class)
        .cause().isInstanceOf(BlobNotFoundException.class);
  }

  /** The store's spooled uploads waiting in the temporary folder. */
  private static java.util.Set<Path> spoolFiles() throws java.io.IOException {
    try (var files = java.nio.file.Files.newDirectoryStream(Path.of(System.getProperty("java.io.tmpdir")),
        "warmgate-put-*.part")) {
      java.util.Set<Path> found = new java.util.HashSet<>();
      files.forEach(found::add);
      return found;
    }
  }

}
