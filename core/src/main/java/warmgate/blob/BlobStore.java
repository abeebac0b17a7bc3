package warmgate.blob;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import warmgate.job.ObjectRef;

/**
 * Where inputs are read and outputs written: S3 in production, a local folder on the embedded default.
 * Failures complete the stage exceptionally: {@link BlobNotFoundException} for a missing object,
 * {@link BlobRefusedException} for a request the store will never accept, anything else is a storage fault worth
 * retrying.
 */
public interface BlobStore {

  /** The object's size, eTag and user metadata, or empty when it does not exist. */
  CompletionStage<Optional<BlobInfo>> head(ObjectRef ref);

  CompletionStage<Blob> get(ObjectRef ref);

  /**
   * The object's content as a stream, for objects too large to hold: the caller reads it and closes it. Fails as
   * {@link #get} does. The default reads the whole object; the local and S3 stores stream.
   */
  default CompletionStage<InputStream> open(ObjectRef ref) {
    return get(ref).thenApply(blob -> new java.io.ByteArrayInputStream(blob.content()));
  }

  /**
   * Writes the object whole from a stream, which it reads to its end and closes; a reader never sees part of it. The
   * default reads the stream into memory; the local and S3 stores pass it through a file.
   */
  default CompletionStage<BlobInfo> put(ObjectRef ref, InputStream content, String contentType,
      Map<String, String> metadata) {
    byte[] bytes;
    try (content) {
      bytes = content.readAllBytes();
    } catch (IOException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(new UncheckedIOException(e));
    }
    return put(ref, bytes, contentType, metadata);
  }

  /**
   * Writes the object whole; a reader never sees part of it.
   *
   * @param metadata user metadata (S3's {@code x-amz-meta-*}), keys in lower case
   */
  CompletionStage<BlobInfo> put(ObjectRef ref, byte[] content, String contentType, Map<String, String> metadata);

  /**
   * Copies an object within the store without passing its bytes through Warmgate (S3's {@code CopyObject}, or a
   * multipart copy for objects over 5 GB), replacing its metadata with {@code metadata}. Fails with
   * {@link BlobNotFoundException} when {@code from} does not exist.
   */
  CompletionStage<BlobInfo> copy(ObjectRef from, ObjectRef to, Map<String, String> metadata);

  /** Removes the object; removing one that does not exist succeeds, as in S3. */
  CompletionStage<Void> delete(ObjectRef ref);
}
