package warmgate.blob;

import warmgate.job.ObjectRef;

/** The object does not exist; for a job input this is the user's mistake, not a fault to retry. */
public final class BlobNotFoundException extends RuntimeException {
  private final ObjectRef ref;

  public BlobNotFoundException(ObjectRef ref) {
    super(ref + " does not exist");
    this.ref = ref;
  }

  public ObjectRef ref() {
    return ref;
  }
}
