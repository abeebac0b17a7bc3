package warmgate.blob;

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
