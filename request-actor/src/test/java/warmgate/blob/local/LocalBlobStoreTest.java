package warmgate.blob.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import warmgate.blob.Blob;
import warmgate.blob.BlobInfo;
import warmgate.blob.BlobNotFoundException;
import warmgate.blob.BlobRefusedException;
import warmgate.blob.Md5;
import warmgate.job.ObjectRef;

class LocalBlobStoreTest {
  private static final ObjectRef PLY = new ObjectRef("gen3d", "users/alice/output/cat.ply");
  // md5("hello") as S3 would give it for a single-part upload
  private static final String HELLO_MD5 = "5d41402abc4b2a76b9719d911017c592";

  @TempDir Path root;
  private final ExecutorService io = Executors.newSingleThreadExecutor();

  @AfterEach
  void stopIo() {
    io.shutdownNow();
  }

  private LocalBlobStore store() {
    return new LocalBlobStore(root, io);
  }

  private static <T> T await(java.util.concurrent.CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }

  @Test
  void putWritesTheObjectUnderItsBucketFolderAndHeadAndGetDescribeIt() throws IOException {
    LocalBlobStore store = store();

    BlobInfo written = await(store.put(PLY, bytes("hello"), "model/ply", Map.of("Warmgate-Job-Id", "j1")));

    assertThat(Files.readString(root.resolve("gen3d/users/alice/output/cat.ply"))).isEqualTo("hello");
    assertThat(written).isEqualTo(new BlobInfo(PLY, 5, HELLO_MD5, "model/ply", Map.of("warmgate-job-id", "j1")));
    assertThat(await(store.head(PLY))).contains(written);
    Blob read = await(store.get(PLY));
    assertThat(read.info()).isEqualTo(written);
    assertThat(read.content()).isEqualTo(bytes("hello"));
  }

  @Test
  void deleteRemovesTheObjectAndItsMetadataAndAMissingObjectIsNoError() {
    LocalBlobStore store = store();
    await(store.put(PLY, bytes("hello"), "model/ply", Map.of("k", "v")));

    await(store.delete(PLY));
    await(store.delete(PLY));

    assertThat(await(store.head(PLY))).isEmpty();
    assertThat(Files.exists(root.resolve("gen3d/users/alice/output/cat.ply"))).isFalse();
    await(store.put(PLY, bytes("again"), "model/ply", Map.of()));
    assertThat(await(store.head(PLY)).orElseThrow().metadata()).as("no metadata left over from the deleted object")
        .isEmpty();
  }

  @Test
  void aFileDroppedInByHandReadsAsAPlainUploadWithAnMd5ETag() throws IOException {
    Path file = root.resolve("gen3d/users/alice/input/cat_image.png");
    Files.createDirectories(file.getParent());
    Files.writeString(file, "hello");
    ObjectRef ref = new ObjectRef("gen3d", "users/alice/input/cat_image.png");

    assertThat(await(store().head(ref)))
        .contains(new BlobInfo(ref, 5, HELLO_MD5, LocalBlobStore.DEFAULT_CONTENT_TYPE, Map.of()));
  }

  @Test
  void aFileOverwrittenByHandLosesTheMetadataOfTheContentItReplaced() throws IOException {
    LocalBlobStore store = store();
    await(store.put(PLY, bytes("hello"), "model/ply", Map.of("k", "v")));

    Files.writeString(root.resolve("gen3d/users/alice/output/cat.ply"), "changed!");

    BlobInfo info = await(store.head(PLY)).orElseThrow();
    assertThat(info.contentType()).isEqualTo(LocalBlobStore.DEFAULT_CONTENT_TYPE);
    assertThat(info.metadata()).isEmpty();
    assertThat(info.size()).isEqualTo(8);
    assertThat(info.eTag()).isEqualTo(Md5.hex(bytes("changed!")));
    assertThat(await(store.get(PLY)).info()).isEqualTo(info);
  }

  @Test
  void aMissingObjectIsEmptyOnHeadAndNotFoundOnGet() {
    LocalBlobStore store = store();

    assertThat(await(store.head(PLY))).isEqualTo(Optional.empty());
    assertThatThrownBy(() -> await(store.get(PLY)))
        .isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(BlobNotFoundException.class);
  }

  @Test
  void aKeyWhoseParentIsAFileIsAMissingObjectNotAnError() throws IOException {
    LocalBlobStore store = store();
    await(store.put(new ObjectRef("gen3d", "a"), bytes("x"), null, Map.of()));

    assertThat(await(store.head(new ObjectRef("gen3d", "a/b")))).isEmpty();
  }

  @Test
  void keysThatWouldLeaveTheBucketFolderAreRefusedBeforeTouchingTheDisk() {
    LocalBlobStore store = store();
    for (String key : new String[] {"../other/x", "a/../../x", "/etc/passwd", "a//b", "a/./b", "a\\b"}) {
      assertThatThrownBy(() -> await(store.put(new ObjectRef("gen3d", key), bytes("x"), null, Map.of())))
          .as(key)
          .hasCauseInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> await(store.head(new ObjectRef(".warmgate", "meta/x"))))
        .hasCauseInstanceOf(IllegalArgumentException.class);
    assertThat(root).isEmptyDirectory();
  }

  @Test
  void aRefusedKeyIsRefusedForGoodNamingTheRuleItBreaks() {
    LocalBlobStore store = store();
    Map<String, String> rules = Map.of(
        "a/../x", "key-no-dot-segments",
        "a/./x", "key-no-dot-segments",
        "a//x", "key-no-empty-segments",
        "/etc/passwd", "key-no-leading-slash",
        "a\\b", "key-no-backslash",
        "a\0b", "key-no-control-characters",
        "a\nb", "key-no-control-characters",
        "k".repeat(1025), "key-max-1024-bytes");
    rules.forEach((key, rule) -> assertThatThrownBy(() -> await(store.put(new ObjectRef("gen3d", key), bytes("x"),
        null, Map.of())))
        .as(rule)
        .hasCauseInstanceOf(BlobRefusedException.class)
        .hasMessageContaining("(rule: " + rule + ")"));
    assertThatThrownBy(() -> await(store.head(new ObjectRef("Not_A_Bucket", "x"))))
        .hasCauseInstanceOf(BlobRefusedException.class)
        .hasMessageContaining("(rule: bucket-name)");
    assertThat(root).isEmptyDirectory();
  }

  @Test
  void aPutLeavesNoTempFilesAndTheOutputReadableByOthers() throws IOException {
    await(store().put(PLY, bytes("hello"), "model/ply", Map.of()));

    Path folder = root.resolve("gen3d/users/alice/output");
    try (Stream<Path> files = Files.list(folder)) {
      assertThat(files).containsExactly(folder.resolve("cat.ply"));
    }
    assertThat(Files.getPosixFilePermissions(folder.resolve("cat.ply"))).contains(PosixFilePermission.OTHERS_READ);
  }

  @Test
  void aSecondPutReplacesContentAndMetadata() {
    LocalBlobStore store = store();
    await(store.put(PLY, bytes("hello"), "model/ply", Map.of("attempt", "1")));

    await(store.put(PLY, bytes("hello again"), "model/ply", Map.of("attempt", "2")));

    BlobInfo info = await(store.head(PLY)).orElseThrow();
    assertThat(info.metadata()).containsExactly(Map.entry("attempt", "2"));
    assertThat(await(store.get(PLY)).content()).isEqualTo(bytes("hello again"));
  }

  @Test
  void anUnreadableSidecarIsIgnoredRatherThanFailingTheRead() throws IOException {
    LocalBlobStore store = store();
    await(store.put(PLY, bytes("hello"), "model/ply", Map.of("k", "v")));
    Path sidecar = new LocalLayout(root).sidecar(PLY);
    Files.writeString(sidecar, "{not json");

    BlobInfo info = await(store.head(PLY)).orElseThrow();

    assertThat(info).isEqualTo(new BlobInfo(PLY, 5, HELLO_MD5, LocalBlobStore.DEFAULT_CONTENT_TYPE, Map.of()));
  }

  @Test
  void aStreamedPutWritesTheWholeStreamWithItsMd5ClosesItAndLeavesNoTempFile() throws IOException {
    byte[] content = random(3 * 1024 * 1024 + 17, 1); // several of the store's 64 KiB chunks, and a partial one
    ClosingStream in = new ClosingStream(content);

    BlobInfo written = await(store().put(PLY, in, "model/ply", Map.of("Warmgate-Job-Id", "j1")));

    assertThat(written).isEqualTo(new BlobInfo(PLY, content.length, Md5.hex(content), "model/ply",
        Map.of("warmgate-job-id", "j1")));
    assertThat(in.closed).as("the store closes the stream it read").isTrue();
    assertThat(Files.readAllBytes(root.resolve("gen3d/users/alice/output/cat.ply"))).isEqualTo(content);
    assertThat(await(store().head(PLY))).contains(written);
    try (java.io.InputStream opened = await(store().open(PLY))) {
      assertThat(opened.readAllBytes()).isEqualTo(content);
    }
    Path folder = root.resolve("gen3d/users/alice/output");
    try (Stream<Path> files = Files.list(folder)) {
      assertThat(files).containsExactly(folder.resolve("cat.ply"));
    }
  }

  @Test
  void aStreamedPutWhoseStreamFailsHalfwayLeavesTheObjectBeforeItUntouched() throws IOException {
    LocalBlobStore store = store();
    BlobInfo before = await(store.put(PLY, bytes("hello"), "model/ply", Map.of("attempt", "1")));
    java.io.InputStream failing = new java.io.SequenceInputStream(new java.io.ByteArrayInputStream(random(200_000, 2)),
        new java.io.InputStream() {
          @Override
          public int read() throws IOException {
            throw new IOException("connection reset");
          }
        });

    assertThatThrownBy(() -> await(store.put(PLY, failing, "model/ply", Map.of("attempt", "2"))))
        .isInstanceOf(CompletionException.class)
        .hasStackTraceContaining("connection reset");

    assertThat(await(store.head(PLY))).contains(before);
    assertThat(await(store.get(PLY)).content()).isEqualTo(bytes("hello"));
    Path folder = root.resolve("gen3d/users/alice/output");
    try (Stream<Path> files = Files.list(folder)) {
      assertThat(files).as("no temp file left behind").containsExactly(folder.resolve("cat.ply"));
    }
  }

  @Test
  void copyWritesTheSameBytesAndContentTypeWithTheGivenMetadataAndKeepsTheSource() throws IOException {
    LocalBlobStore store = store();
    ObjectRef held = new ObjectRef("gen3d", "users/alice/output/held/cat.ply");
    byte[] content = random(1024 * 1024 + 5, 3);
    await(store.put(held, content, "model/ply", Map.of("Warmgate-Job-Id", "j1", "warmgate-held", "yes")));

    BlobInfo copied = await(store.copy(held, PLY, Map.of("Warmgate-Job-Id", "j1", "Warmgate-Approved-By", "bob")));

    BlobInfo expected = new BlobInfo(PLY, content.length, Md5.hex(content), "model/ply",
        Map.of("warmgate-job-id", "j1", "warmgate-approved-by", "bob"));
    assertThat(copied).isEqualTo(expected);
    assertThat(await(store.head(PLY))).contains(expected);
    assertThat(Files.readAllBytes(root.resolve("gen3d/users/alice/output/cat.ply"))).isEqualTo(content);
    assertThat(await(store.head(held)).orElseThrow().metadata())
        .isEqualTo(Map.of("warmgate-job-id", "j1", "warmgate-held", "yes"));
    assertThat(await(store.get(held)).content()).isEqualTo(content);
  }

  @Test
  void copyOverAnExistingObjectReplacesItsContentAndMetadata() {
    LocalBlobStore store = store();
    ObjectRef from = new ObjectRef("gen3d", "users/zo\u00eb/input/my cat+1_image.png");
    await(store.put(from, new byte[] {4, 5, 6}, "image/png", Map.of()));
    await(store.put(PLY, bytes("old"), "text/plain", Map.of("old", "1")));

    BlobInfo copied = await(store.copy(from, PLY, Map.of()));

    assertThat(copied).isEqualTo(new BlobInfo(PLY, 3, Md5.hex(new byte[] {4, 5, 6}), "image/png", Map.of()));
    assertThat(await(store.get(PLY)).content()).containsExactly(4, 5, 6);
    assertThat(await(store.head(PLY)).orElseThrow().metadata()).isEmpty();
  }

  @Test
  void copyingAMissingSourceIsNotFoundAndWritesNothing() {
    LocalBlobStore store = store();
    ObjectRef missing = new ObjectRef("gen3d", "users/alice/input/none.png");

    assertThatThrownBy(() -> await(store.copy(missing, PLY, Map.of())))
        .isInstanceOf(CompletionException.class)
        .cause().isInstanceOf(BlobNotFoundException.class);

    assertThat(await(store.head(PLY))).isEmpty();
  }

  private static byte[] random(int size, long seed) {
    byte[] content = new byte[size];
    new java.util.Random(seed).nextBytes(content);
    return content;
  }

  /** Remembers that it was closed. */
  private static final class ClosingStream extends java.io.ByteArrayInputStream {
    private volatile boolean closed;

    ClosingStream(byte[] content) {
      super(content);
    }

    @Override
    public void close() throws IOException {
      closed = true;
      super.close();
    }
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
