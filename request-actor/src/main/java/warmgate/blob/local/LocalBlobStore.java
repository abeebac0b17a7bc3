package warmgate.blob.local;

import com.fasterxml.jackson.core.JacksonException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.Json;
import warmgate.blob.Blob;
import warmgate.blob.BlobInfo;
import warmgate.blob.BlobNotFoundException;
import warmgate.blob.BlobStore;
import warmgate.blob.Md5;
import warmgate.job.ObjectRef;

/**
 * The embedded default store: a folder per bucket under a root, {@code <root>/<bucket>/<key>}, so a user can
 * drop inputs in with a file manager and pick outputs up the same way. Content type and user metadata live in a
 * sidecar under {@code <root>/.warmgate/meta/}, keeping the bucket folders to the user's own files.
 *
 * <p>A file a user put there by hand has no sidecar, and one a user overwrote has a stale one; either way the
 * object reads as S3 would show a plain upload: {@code application/octet-stream} and no metadata.
 */
public final class LocalBlobStore implements BlobStore {
  public static final String DEFAULT_CONTENT_TYPE = "application/octet-stream";

  private static final Logger log = LoggerFactory.getLogger(LocalBlobStore.class);

  private final LocalLayout layout;
  private final Executor executor;

  /**
   * @param root the folder holding one folder per bucket; created on the first write if missing
   * @param executor where the blocking file I/O runs
   */
  /** The embedded default's store; refuses to start where file names cannot hold every key (not UTF-8). */
  public static LocalBlobStore create(Path root, Executor executor) {
    FileNameEncoding.requireUtf8();
    return new LocalBlobStore(root, executor);
  }

  public LocalBlobStore(Path root, Executor executor) {
    this.layout = new LocalLayout(root);
    this.executor = executor;
  }

  public Path root() {
    return layout.root();
  }

  @Override
  public CompletionStage<Optional<BlobInfo>> head(ObjectRef ref) {
    return onExecutor(() -> readInfo(ref));
  }

  @Override
  public CompletionStage<Blob> get(ObjectRef ref) {
    return onExecutor(() -> read(ref));
  }

  /** The file itself, read as the caller reads; never in memory as a whole. */
  @Override
  public CompletionStage<InputStream> open(ObjectRef ref) {
    return onExecutor(() -> {
      Path file = layout.object(ref);
      if (!Files.isRegularFile(file)) {
        throw new BlobNotFoundException(ref);
      }
      try {
        return Files.newInputStream(file);
      } catch (NoSuchFileException deletedMeanwhile) {
        throw new BlobNotFoundException(ref);
      }
    });
  }

  @Override
  public CompletionStage<BlobInfo> put(ObjectRef ref, byte[] content, String contentType, Map<String,
      String> metadata) {
    return onExecutor(() -> write(ref, channel -> {
      ByteBuffer buffer = ByteBuffer.wrap(content);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      return new Written(content.length, Md5.hex(content));
    }, contentType, metadata));
  }

  /** Copied to a file beside the object as it is read (its MD5 on the way), then moved into place. */
  @Override
  public CompletionStage<BlobInfo> put(ObjectRef ref, InputStream content, String contentType,
      Map<String, String> metadata) {
    return onExecutor(() -> {
      try (content) {
        return write(ref, channel -> copy(content, channel), contentType, metadata);
      }
    });
  }

  /** A streamed read and write: the local store has no server to copy for it, and the write stays atomic. */
  @Override
  public CompletionStage<BlobInfo> copy(ObjectRef from, ObjectRef to, Map<String, String> metadata) {
    return onExecutor(() -> {
      Optional<BlobInfo> source = readInfo(from);
      if (source.isEmpty()) {
        throw new BlobNotFoundException(from);
      }
      try (InputStream in = Files.newInputStream(layout.object(from))) {
        return write(to, channel -> copy(in, channel), source.get().contentType(), metadata);
      } catch (NoSuchFileException deletedMeanwhile) {
        throw new BlobNotFoundException(from);
      }
    });
  }

  private static Written copy(InputStream in, FileChannel channel) throws IOException {
    MessageDigest md5 = Md5.digest();
    byte[] chunk = new byte[64 * 1024];
    long size = 0;
    for (int n = in.read(chunk); n >= 0; n = in.read(chunk)) {
      md5.update(chunk, 0, n);
      ByteBuffer buffer = ByteBuffer.wrap(chunk, 0, n);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      size += n;
    }
    return new Written(size, HexFormat.of().formatHex(md5.digest()));
  }

  @Override
  public CompletionStage<Void> delete(ObjectRef ref) {
    return onExecutor(() -> {
      // The content first: a sidecar left alone describes nothing and is ignored, a file without one is a user's file.
      Files.deleteIfExists(layout.object(ref));
      Files.deleteIfExists(layout.sidecar(ref));
      return null;
    });
  }

  private Optional<BlobInfo> readInfo(ObjectRef ref) throws IOException {
    Path file = layout.object(ref);
    // Also false when a parent is a file; S3 has no folders, so that is just a missing object.
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      Optional<Sidecar> sidecar = readSidecar(ref);
      // Size and mtime unchanged since our own write: the sidecar's eTag still holds, no need to read the content.
      if (sidecar.isPresent()
          && sidecar.get().size() == attributes.size()
          && sidecar.get().modified().equals(attributes.lastModifiedTime().toInstant())) {
        return Optional.of(sidecar.get().info(ref));
      }
      String eTag = Md5.hex(file);
      return Optional.of(describe(ref, attributes.size(), eTag, sidecar));
    } catch (NoSuchFileException deletedMeanwhile) {
      return Optional.empty();
    }
  }

  private Blob read(ObjectRef ref) throws IOException {
    Path file = layout.object(ref);
    if (!Files.isRegularFile(file)) {
      throw new BlobNotFoundException(ref);
    }
    byte[] content;
    try {
      content = Files.readAllBytes(file);
    } catch (NoSuchFileException deletedMeanwhile) {
      throw new BlobNotFoundException(ref);
    }
    return new Blob(describe(ref, content.length, Md5.hex(content), readSidecar(ref)), content);
  }

  /** What a write put in the file: its size and MD5. */
  private record Written(long size, String md5) {}

  @FunctionalInterface
  private interface ContentWriter {
    Written writeTo(FileChannel channel) throws IOException;
  }

  private BlobInfo write(ObjectRef ref, ContentWriter content, String contentType, Map<String, String> metadata)
      throws IOException {
    Path file = layout.object(ref);
    Files.createDirectories(file.getParent());
    Path temp = LocalLayout.tempBeside(file);
    try {
      Written written = writeDurably(temp, content);
      // A rename within the folder keeps the mtime, so the sidecar can name the exact file it describes.
      Instant modified = Files.getLastModifiedTime(temp).toInstant();
      Sidecar sidecar = new Sidecar(
          ref.key(), contentType == null ? DEFAULT_CONTENT_TYPE : contentType, lowerCaseKeys(metadata),
              written.md5(),
          written.size(), modified);
      // The sidecar goes first, so whoever sees the new content also finds what describes it.
      Path sidecarFile = layout.sidecar(ref);
      Files.createDirectories(sidecarFile.getParent());
      Path sidecarTemp = LocalLayout.tempBeside(sidecarFile);
      try {
        byte[] json = Json.mapper().writeValueAsBytes(sidecar);
        writeDurably(sidecarTemp, channel -> {
          ByteBuffer buffer = ByteBuffer.wrap(json);
          while (buffer.hasRemaining()) {
            channel.write(buffer);
          }
          return new Written(json.length, "");
        });
        Files.move(sidecarTemp, sidecarFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(sidecarTemp);
      }
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return sidecar.info(ref);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static Written writeDurably(Path file, ContentWriter content) throws IOException {
    // CREATE_NEW rather than createTempFile, which would make the user's output readable by its owner only.
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      Written written = content.writeTo(channel);
      // The caller records a job as done once put completes; the content must survive a crash after that.
      channel.force(true);
      return written;
    }
  }

  /** Keeps the sidecar's type and metadata only if it describes this very content. */
  private static BlobInfo describe(ObjectRef ref, long size, String eTag, Optional<Sidecar> sidecar) {
    if (sidecar.isPresent() && sidecar.get().size() == size && sidecar.get().eTag().equals(eTag)) {
      return sidecar.get().info(ref);
    }
    return new BlobInfo(ref, size, eTag, DEFAULT_CONTENT_TYPE, Map.of());
  }

  private Optional<Sidecar> readSidecar(ObjectRef ref) throws IOException {
    Path file = layout.sidecar(ref);
    byte[] json;
    try {
      json = Files.readAllBytes(file);
    } catch (NoSuchFileException absent) {
      return Optional.empty();
    }
    try {
      Sidecar sidecar = Json.mapper().readValue(json, Sidecar.class);
      return sidecar.isComplete() && ref.key().equals(sidecar.key()) ? Optional.of(sidecar) : Optional.empty();
    } catch (JacksonException corrupt) {
      log.warn("Ignoring unreadable metadata {} for {}: {}", file, ref, corrupt.getOriginalMessage());
      return Optional.empty();
    }
  }

  public static Map<String, String> lowerCaseKeys(Map<String, String> metadata) {
    Map<String, String> lower = new HashMap<>();
    if (metadata != null) {
      metadata.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
    }
    return lower;
  }

  private <T> CompletionStage<T> onExecutor(IoCall<T> call) {
    CompletableFuture<T> result = new CompletableFuture<>();
    try {
      executor.execute(() -> {
        try {
          result.complete(call.run());
        } catch (Throwable t) {
          // The stage carries the failure itself, not wrapped, so callers can match BlobNotFoundException.
          result.completeExceptionally(t);
        }
      });
    } catch (RejectedExecutionException e) {
      result.completeExceptionally(e);
    }
    return result;
  }

  @FunctionalInterface
  private interface IoCall<T> {
    T run() throws IOException;
  }

  /**
   * What S3 would keep beside the content; size, eTag and mtime say which content that was. The key is there for
   * a person looking at the file, since the file's name is a digest.
   */
  record Sidecar(String key, String contentType, Map<String, String> metadata, String eTag, long size,
      Instant modified) {
    boolean isComplete() {
      return key != null && contentType != null && metadata != null && eTag != null && modified != null;
    }

    BlobInfo info(ObjectRef ref) {
      return new BlobInfo(ref, size, eTag, contentType, metadata);
    }
  }
}
