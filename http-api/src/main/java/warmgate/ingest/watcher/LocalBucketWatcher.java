package warmgate.ingest.watcher;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.blob.Md5;
import warmgate.blob.local.LocalLayout;
import warmgate.ingest.ObjectCreated;
import warmgate.job.ObjectKeys;

/**
 * Turns files that appear in the local bucket folders into the {@link ObjectCreated} notifications S3 would send,
 * so the embedded default starts jobs the same way an S3 bucket with event notifications does.
 *
 * <p>It polls rather than using a {@code WatchService}: polling sees folders created later and behaves the same on
 * every file system, including network mounts where watch events never arrive. A file is reported once its size
 * and mtime held still across two scans, so a file still being copied is left alone (a copy that stalls for a
 * whole interval is reported early; S3 has no such problem because an upload is atomic). What was reported lives
 * in memory only: after a restart every file is reported again, and the consumer answers those as duplicates
 * because the same content gives the same job id.
 */
public final class LocalBucketWatcher implements AutoCloseable {
  static final int MAX_BATCH = 1000;
  /** Past this a hand-off counts as failed and its files go out again; the consumer is idempotent. */
  static final Duration HAND_OFF_TIMEOUT = Duration.ofMinutes(5);

  private static final Logger log = LoggerFactory.getLogger(LocalBucketWatcher.class);

  private final LocalLayout layout;
  private final Duration interval;
  private final Function<List<ObjectCreated>, CompletionStage<?>> sink;
  private final ScheduledExecutorService scheduler;
  private final boolean ownsScheduler;
  private final int maxBatch;

  private final Object lock = new Object();
  // Guarded by lock. One entry per file under the buckets; that map is the watcher's whole memory.
  private Map<Path, Seen> seen = new HashMap<>();
  private final Set<String> warnedFolders = new HashSet<>();
  private boolean handOffInFlight;
  private ScheduledFuture<?> scans;
  private boolean closed;

  /** Scans on a daemon thread of its own. */
  public LocalBucketWatcher(Path root, Duration watchInterval, Function<List<ObjectCreated>, CompletionStage<?>> sink) {
    this(root, watchInterval, sink, null, MAX_BATCH);
  }

  /** Scans on {@code scheduler}, which stays open when the watcher closes. */
  public LocalBucketWatcher(
      Path root,
      Duration watchInterval,
      Function<List<ObjectCreated>, CompletionStage<?>> sink,
      ScheduledExecutorService scheduler) {
    this(root, watchInterval, sink, Objects.requireNonNull(scheduler, "scheduler"), MAX_BATCH);
  }

  LocalBucketWatcher(
      Path root,
      Duration watchInterval,
      Function<List<ObjectCreated>, CompletionStage<?>> sink,
      ScheduledExecutorService scheduler,
      int maxBatch) {
    if (watchInterval.isNegative() || watchInterval.isZero()) {
      throw new IllegalArgumentException("the watch interval must be positive, not " + watchInterval);
    }
    this.layout = new LocalLayout(root);
    this.interval = watchInterval;
    this.sink = Objects.requireNonNull(sink, "sink");
    this.maxBatch = maxBatch;
    this.ownsScheduler = scheduler == null;
    this.scheduler = scheduler != null ? scheduler : Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "warmgate-bucket-watcher");
      thread.setDaemon(true);
      return thread;
    });
  }

  /** Scans now and then every interval; files already present are reported once they prove stable. */
  public void start() {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the bucket watcher on " + layout.root() + " is closed");
      }
      if (scans == null) {
        scans = scheduler.scheduleWithFixedDelay(this::scanLoggingFailures, 0, interval.toNanos(),
            TimeUnit.NANOSECONDS);
        log.info("Watching {} for new files every {}", layout.root(), interval);
      }
    }
  }

  /** Stops scanning; a hand-off already under way still completes. */
  @Override
  public void close() {
    ScheduledFuture<?> running;
    synchronized (lock) {
      closed = true;
      running = scans;
      scans = null;
    }
    if (running != null) {
      running.cancel(false);
    }
    if (ownsScheduler) {
      scheduler.shutdown();
      try {
        if (!scheduler.awaitTermination(10, TimeUnit.SECONDS)) {
          log.warn("The bucket watcher on {} did not finish its scan within 10 s", layout.root());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void scanLoggingFailures() {
    try {
      scanOnce();
    } catch (Exception e) {
      // Thrown out of a scheduled task, this would cancel every later scan.
      log.warn("Scanning {} failed; trying again in {}", layout.root(), interval, e);
    }
  }

  /** One scan: notes what changed and hands the files that proved stable to the sink. */
  void scanOnce() throws IOException {
    Map<Path, Observed> found = walk();
    List<Observed> ready = new ArrayList<>();
    synchronized (lock) {
      Map<Path, Seen> next = new HashMap<>(Math.max(16, found.size() * 4 / 3 + 1));
      found.forEach((path, now) -> {
        Seen before = seen.get(path);
        if (before != null && before.sameAs(now)) {
          next.put(path, before);
          if (!before.reported()) {
            ready.add(now);
          }
        } else {
          // New or changed since the last scan: wait for it to hold still. An overwrite is reported again, as S3 would.
          next.put(path, new Seen(now.size(), now.modified(), false));
        }
      });
      seen = next;
      // One hand-off at a time: the consumer sets the pace, and the same file is never in two batches at once.
      if (handOffInFlight || ready.isEmpty()) {
        return;
      }
      handOffInFlight = true;
    }
    try {
      handOff(ready);
    } catch (RuntimeException e) {
      synchronized (lock) {
        handOffInFlight = false;
      }
      throw e;
    }
  }

  private void handOff(List<Observed> ready) {
    ready.sort(Comparator.comparing(Observed::modified));
    List<ObjectCreated> batch = new ArrayList<>();
    List<Observed> handed = new ArrayList<>();
    for (Observed file : ready) {
      if (batch.size() >= maxBatch) {
        break;
      }
      Optional<String> unreportable = unreportable(file.key());
      if (unreportable.isPresent()) {
        log.warn("Not reporting {}: {}", file.path(), unreportable.get());
        markReported(List.of(file));
        continue;
      }
      Optional<ObjectCreated> event;
      try {
        event = describe(file);
      } catch (IOException e) {
        // Left unreported, so it is tried again once readable (a chmod does not change the mtime).
        log.warn("Cannot read {} to report it: {}", file.path(), e.toString());
        continue;
      }
      if (event.isPresent()) {
        batch.add(event.get());
        handed.add(file);
      }
    }
    if (batch.isEmpty()) {
      synchronized (lock) {
        handOffInFlight = false;
      }
      return;
    }
    CompletableFuture<Object> done = new CompletableFuture<>();
    try {
      CompletionStage<?> stage = sink.apply(List.copyOf(batch));
      if (stage == null) {
        throw new IllegalStateException("the sink returned no stage");
      }
      stage.whenComplete((ignored, failure) -> {
        if (failure != null) {
          done.completeExceptionally(failure);
        } else {
          done.complete(null);
        }
      });
    } catch (RuntimeException e) {
      done.completeExceptionally(e);
    }
    // Our own future, so the timeout never completes the sink's stage; a sink that never answers cannot stall
    // the watcher for good.
    done.orTimeout(HAND_OFF_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).whenComplete((ignored, failure) -> {
      if (failure == null) {
        markReported(handed);
        if (log.isDebugEnabled()) {
          batch.forEach(e -> log.debug("Reported s3://{}/{} ({} bytes, eTag {})", e.bucket(), e.key(), e.size(),
              e.eTag()));
        }
      } else {
        log.warn("Handing on {} new file(s) under {} failed; they go out again on the next scan",
            batch.size(), layout.root(), failure);
      }
      synchronized (lock) {
        handOffInFlight = false;
      }
    });
  }

  private void markReported(List<Observed> files) {
    synchronized (lock) {
      for (Observed file : files) {
        Seen now = seen.get(file.path());
        // Only if it is still the content that went out; a file changed meanwhile is reported afresh.
        if (now != null && now.sameAs(file)) {
          seen.put(file.path(), new Seen(now.size(), now.modified(), true));
        }
      }
    }
  }

  /** Reads the content for its eTag; empty when the file moved on meanwhile, which the next scans will notice. */
  private Optional<ObjectCreated> describe(Observed file) throws IOException {
    String eTag;
    BasicFileAttributes after;
    try {
      eTag = Md5.hex(file.path());
      after = Files.readAttributes(file.path(), BasicFileAttributes.class);
    } catch (NoSuchFileException deletedMeanwhile) {
      return Optional.empty();
    }
    if (after.size() != file.size() || !after.lastModifiedTime().equals(file.modified())) {
      return Optional.empty();
    }
    long nanos = file.modified().to(TimeUnit.NANOSECONDS);
    // Zero-padded so that, like S3's sequencers, later writes to a key compare greater as strings.
    String sequencer = String.format("%016X", nanos);
    return Optional.of(new ObjectCreated(
        file.bucket(), file.key(), null, eTag, file.size(), sequencer, file.modified().toInstant()));
  }

  private Map<Path, Observed> walk() throws IOException {
    Map<Path, Observed> found = new HashMap<>();
    Path root = layout.root();
    if (!Files.isDirectory(root)) {
      log.debug("{} does not exist yet; nothing to report", root);
      return found;
    }
    try (DirectoryStream<Path> folders = Files.newDirectoryStream(root)) {
      for (Path folder : folders) {
        String bucket = folder.getFileName().toString();
        if (LocalLayout.isIgnored(bucket) || !Files.isDirectory(folder)) {
          continue;
        }
        if (!LocalLayout.isBucketName(bucket)) {
          warnOnce(folder);
          continue;
        }
        walkBucket(bucket, folder, found);
      }
    }
    return found;
  }

  private void walkBucket(String bucket, Path folder, Map<Path, Observed> found) throws IOException {
    // A bucket folder may be a link to storage elsewhere; below it links are not followed.
    Path bucketDir = folder.toRealPath();
    Files.walkFileTree(bucketDir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
        return !dir.equals(bucketDir) && LocalLayout.isIgnored(dir.getFileName().toString())
            ? FileVisitResult.SKIP_SUBTREE
            : FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
        if (attributes.isRegularFile() && !LocalLayout.isIgnored(file.getFileName().toString())) {
          found.put(file, new Observed(file, bucket, LocalLayout.key(bucketDir, file), attributes.size(),
              attributes.lastModifiedTime()));
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) {
        // Usually a file deleted between listing and reading; anything lasting shows up on every scan.
        log.debug("Skipping {} this scan: {}", file, e.toString());
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException e) {
        if (e != null) {
          log.debug("Listing {} stopped early this scan: {}", dir, e.toString());
        }
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private void warnOnce(Path folder) {
    synchronized (lock) {
      if (warnedFolders.add(folder.getFileName().toString())) {
        log.warn("Ignoring folder {}: its name is not a valid S3 bucket name (3-63 of a-z, 0-9, '.' and '-')", folder);
      }
    }
  }

  /** Why the file's key could never name a job's object, or empty. */
  private static Optional<String> unreportable(String key) {
    if (key.indexOf('\uFFFD') >= 0) {
      // The JVM could not decode the name's bytes: the key would name another file than this one.
      return Optional.of("its name is not valid UTF-8 (rule: key-utf8)");
    }
    return ObjectKeys.checkKey(key).map(ObjectKeys.Violation::toString);
  }

  /** A file as one scan found it. */
  private record Observed(Path path, String bucket, String key, long size, FileTime modified) {}

  /** What the watcher remembers of a file between scans. */
  private record Seen(long size, FileTime modified, boolean reported) {
    boolean sameAs(Observed file) {
      return size == file.size() && modified.equals(file.modified());
    }
  }
}
