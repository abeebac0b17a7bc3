package warmgate.testing;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import warmgate.blob.Blob;
import warmgate.blob.BlobInfo;
import warmgate.blob.BlobNotFoundException;
import warmgate.blob.BlobStore;
import warmgate.job.ObjectRef;

/** A blob store in a map, with a switch to make it fail like an unreachable S3. */
public final class InMemoryBlobStore implements BlobStore {
  private final Map<ObjectRef, Blob> objects = new ConcurrentHashMap<>();
  private volatile RuntimeException failure;
  public final AtomicInteger puts = new AtomicInteger();
  /** Contents read ({@link #get}, and {@link #open}, which reads through it). */
  public final AtomicInteger reads = new AtomicInteger();

  public void put(ObjectRef ref, byte[] content) {
    put(ref, content, "application/octet-stream", Map.of()).toCompletableFuture().join();
  }

  public Optional<Blob> object(ObjectRef ref) {
    return Optional.ofNullable(objects.get(ref));
  }

  /** Every call fails with {@code failure} until it is set back to null. */
  public void failWith(RuntimeException failure) {
    this.failure = failure;
  }

  @Override
  public CompletionStage<Optional<BlobInfo>> head(ObjectRef ref) {
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    return CompletableFuture.completedFuture(Optional.ofNullable(objects.get(ref)).map(Blob::info));
  }

  @Override
  public CompletionStage<Blob> get(ObjectRef ref) {
    reads.incrementAndGet();
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    Blob blob = objects.get(ref);
    return blob == null ? CompletableFuture.failedFuture(new BlobNotFoundException(ref))
        : CompletableFuture.completedFuture(blob);
  }

  @Override
  public CompletionStage<BlobInfo> put(ObjectRef ref, byte[] content, String contentType, Map<String,
      String> metadata) {
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    puts.incrementAndGet();
    BlobInfo info = new BlobInfo(ref, content.length, md5(content), contentType, metadata);
    objects.put(ref, new Blob(info, content.clone()));
    return CompletableFuture.completedFuture(info);
  }

  @Override
  public CompletionStage<BlobInfo> copy(ObjectRef from, ObjectRef to, Map<String, String> metadata) {
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    Blob blob = objects.get(from);
    if (blob == null) {
      return CompletableFuture.failedFuture(new BlobNotFoundException(from));
    }
    return put(to, blob.content(), blob.info().contentType(), metadata);
  }

  @Override
  public CompletionStage<Void> delete(ObjectRef ref) {
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    objects.remove(ref);
    return CompletableFuture.completedFuture(null);
  }

  private static String md5(byte[] content) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
