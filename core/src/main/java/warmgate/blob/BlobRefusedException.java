package warmgate.blob;

import warmgate.job.ObjectRef;

/**
 * The store refuses this request and always will: the reference can never name an object there (a key the local
 * store cannot map to a file, a bucket S3 does not have, a key S3 finds too long). Retrying cannot help, so a job
 * treats it as permanent wherever it meets it. An {@link IllegalArgumentException}, as the request is at fault.
 */
public final class BlobRefusedException extends IllegalArgumentException {
  private final ObjectRef ref;

  /** @param reason why, as a sentence that names the broken rule where there is one */
  public BlobRefusedException(ObjectRef ref, String reason) {
    super(ref + ": " + reason);
    this.ref = ref;
  }

  public BlobRefusedException(ObjectRef ref, String reason, Throwable cause) {
    super(ref + ": " + reason, cause);
    this.ref = ref;
  }

  public ObjectRef ref() {
    return ref;
  }
}
