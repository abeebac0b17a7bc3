package warmgate.ingest.watcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import warmgate.ingest.ObjectCreated;

// Scans are driven by hand through scanOnce(), so each test decides exactly what a scan sees.
class LocalBucketWatcherTest {
  @TempDir Path root;
  private final ScheduledExecutorService unused = Executors.newSingleThreadScheduledExecutor();
  private final List<List<ObjectCreated>> batches = new CopyOnWriteArrayList<>();
  private volatile CompletionStage<?> sinkAnswer = CompletableFuture.completedFuture(null);

  @AfterEach
  void stop() {
    unused.shutdownNow();
  }

  private LocalBucketWatcher watcher(int maxBatch) {
    return new LocalBucketWatcher(root, Duration.ofSeconds(1), batch -> {
      batches.add(batch);
      return sinkAnswer;
    }, unused, maxBatch);
  }

  private LocalBucketWatcher watcher() {
    return watcher(LocalBucketWatcher.MAX_BATCH);
  }

  private Path write(String relative, String content) throws IOException {
    Path file = root.resolve(relative);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content);
    return file;
  }

  private List<String> reportedKeys() {
    List<String> keys = new ArrayList<>();
    batches.forEach(batch -> batch.forEach(e -> keys.add(e.bucket() + "/" + e.key())));
    return keys;
  }

  @Test
  void aNewFileIsReportedOnceItHeldStillForTwoScans() throws IOException {
    Path file = write("gen3d/users/alice/input/cat_image.png", "hello");
    LocalBucketWatcher watcher = watcher();

    watcher.scanOnce();
    assertThat(batches).isEmpty();

    watcher.scanOnce();
    assertThat(batches).hasSize(1);
    ObjectCreated event = batches.get(0).get(0);
    assertThat(event.bucket()).isEqualTo("gen3d");
    assertThat(event.key()).isEqualTo("users/alice/input/cat_image.png");
    assertThat(event.size()).isEqualTo(5);
    assertThat(event.eTag()).isEqualTo("5d41402abc4b2a76b9719d911017c592");
    assertThat(event.versionId()).isNull();
    assertThat(event.eventTime()).isEqualTo(Files.getLastModifiedTime(file).toInstant());

    watcher.scanOnce();
    assertThat(batches).as("reported once only").hasSize(1);
  }

  @Test
  void aFileStillGrowingWaitsUntilItStopsChanging() throws IOException {
    Path file = write("gen3d/big.bin", "part");
    LocalBucketWatcher watcher = watcher();
    watcher.scanOnce();

    Files.writeString(file, "part and more");
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(1)));
    watcher.scanOnce();
    assertThat(batches).isEmpty();

    watcher.scanOnce();
    assertThat(batches).hasSize(1);
    assertThat(batches.get(0).get(0).size()).isEqualTo(13);
  }

  @Test
  void anOverwriteIsReportedAgainWithALaterSequencer() throws IOException {
    Path file = write("gen3d/a.png", "one");
    LocalBucketWatcher watcher = watcher();
    watcher.scanOnce();
    watcher.scanOnce();

    Files.writeString(file, "two!");
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
    watcher.scanOnce();
    watcher.scanOnce();

    assertThat(batches).hasSize(2);
    ObjectCreated first = batches.get(0).get(0);
    ObjectCreated second = batches.get(1).get(0);
    assertThat(second.eTag()).isNotEqualTo(first.eTag());
    assertThat(second.sequencer()).isGreaterThan(first.sequencer());
  }

  @Test
  void hiddenTemporaryAndPrivateFilesAndBadlyNamedBucketsAreNeverReported() throws IOException {
    write("gen3d/.hidden.png", "x");
    write("gen3d/upload.png.part", "x");
    write("gen3d/download.crdownload", "x");
    write("gen3d/.cache/a.png", "x");
    write(".warmgate/meta/gen3d/ab/abc.json", "{}");
    write("Not_A_Bucket/a.png", "x");
    write("gen3d/ok.png", "x");
    Files.writeString(root.resolve("loose-file-at-root.png"), "x");
    LocalBucketWatcher watcher = watcher();

    watcher.scanOnce();
    watcher.scanOnce();

    assertThat(reportedKeys()).containsExactly("gen3d/ok.png");
  }

  @Test
  void filesWhoseNamesCanNeverBeKeysAreNotReportedAndTheOthersStillAre() throws Exception {
    write("gen3d/users/alice/input/new\nline_image.png", "x");
    write("gen3d/users/alice/input/back\\slash_image.png", "x");
    write("gen3d/users/alice/input/nul-free\u0001_image.png", "x");
    // Nested folders take the key past S3's 1,024 bytes while each name stays within the file system's 255.
    write("gen3d/" + ("d".repeat(200) + "/").repeat(6) + "deep_image.png", "x");
    write("gen3d/users/alice/input/ok_image.png", "x");
    // A name whose bytes are not UTF-8, as a tool under another locale may write it; Java cannot spell it.
    Path folder = root.resolve("gen3d/users/alice/input");
    Process p = new ProcessBuilder("sh", "-c",
        "printf x > \"$(printf 'bad\\377_image.png')\"").directory(folder.toFile()).start();
    assertThat(p.waitFor()).isZero();
    LocalBucketWatcher watcher = watcher();

    watcher.scanOnce();
    watcher.scanOnce();
    watcher.scanOnce();

    assertThat(reportedKeys()).containsExactly("gen3d/users/alice/input/ok_image.png");
  }

  @Test
  void aFailedHandOffIsRetriedOnTheNextScan() throws IOException {
    write("gen3d/a.png", "x");
    LocalBucketWatcher watcher = watcher();
    sinkAnswer = CompletableFuture.failedFuture(new IllegalStateException("journal unavailable"));
    watcher.scanOnce();
    watcher.scanOnce();
    assertThat(batches).hasSize(1);

    sinkAnswer = CompletableFuture.completedFuture(null);
    watcher.scanOnce();
    watcher.scanOnce();

    assertThat(reportedKeys()).containsExactly("gen3d/a.png", "gen3d/a.png");
  }

  @Test
  void aSinkThatThrowsDoesNotStopTheWatcher() throws IOException {
    write("gen3d/a.png", "x");
    List<Integer> calls = new CopyOnWriteArrayList<>();
    LocalBucketWatcher watcher = new LocalBucketWatcher(root, Duration.ofSeconds(1), batch -> {
      calls.add(batch.size());
      if (calls.size() == 1) {
        throw new IllegalStateException("boom");
      }
      return CompletableFuture.completedFuture(null);
    }, unused, 10);

    watcher.scanOnce();
    watcher.scanOnce();
    watcher.scanOnce();

    assertThat(calls).containsExactly(1, 1);
  }

  @Test
  void onlyOneHandOffIsInFlightAndBatchesAreBounded() throws IOException {
    for (int i = 0; i < 5; i++) {
      Path file = write("gen3d/f" + i + ".png", "x" + i);
      // Distinct mtimes so the oldest-first order is well defined.
      Files.setLastModifiedTime(file, FileTime.from(Instant.parse("2026-01-01T00:00:00Z").plusSeconds(i)));
    }
    CompletableFuture<Void> slowConsumer = new CompletableFuture<>();
    sinkAnswer = slowConsumer;
    LocalBucketWatcher watcher = watcher(2);
    watcher.scanOnce();
    watcher.scanOnce();
    watcher.scanOnce();
    assertThat(reportedKeys()).as("the second batch waits for the first").containsExactly("gen3d/f0.png",
        "gen3d/f1.png");

    sinkAnswer = CompletableFuture.completedFuture(null);
    slowConsumer.complete(null);
    watcher.scanOnce();
    watcher.scanOnce();
    watcher.scanOnce();

    assertThat(reportedKeys()).containsExactly(
        "gen3d/f0.png", "gen3d/f1.png", "gen3d/f2.png", "gen3d/f3.png", "gen3d/f4.png");
  }

  @Test
  void aMissingRootIsNotAnError() throws IOException {
    LocalBucketWatcher watcher = new LocalBucketWatcher(root.resolve("not-yet"), Duration.ofSeconds(1),
        batch -> CompletableFuture.completedFuture(null), unused, 10);

    watcher.scanOnce();

    assertThat(batches).isEmpty();
  }

  @Test
  void startedWatcherReportsOnItsOwnAndStopsWhenClosed() throws Exception {
    write("gen3d/a.png", "x");
    LocalBucketWatcher watcher = new LocalBucketWatcher(root, Duration.ofMillis(20), batch -> {
      batches.add(batch);
      return CompletableFuture.completedFuture(null);
    });
    watcher.start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (batches.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(reportedKeys()).containsExactly("gen3d/a.png");
    } finally {
      watcher.close();
    }
    assertThatThrownBy(watcher::start).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aNonPositiveIntervalIsRefused() {
    assertThatThrownBy(() -> new LocalBucketWatcher(root, Duration.ZERO, batch -> null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("positive");
  }
}
