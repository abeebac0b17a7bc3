package warmgate.provider;

/**
 * A failed model call. {@link Kind#PERMANENT} errors (the model rejected the input) fail the job at once;
 * {@link Kind#TRANSIENT} ones (throttling, 5xx, timeouts) are retried with backoff; {@link Kind#NOT_READY} ones (the
 * endpoint has no capacity yet, e.g. an inference component scaling from zero copies) send the job back to the queue
 * without counting an attempt.
 */
public final class InferenceException extends RuntimeException {
  public enum Kind {
    PERMANENT,
    TRANSIENT,
    /** The endpoint cannot take the request yet; nothing ran. The job waits for a slot again, no attempt used. */
    NOT_READY
  }

  private final Kind kind;
  private final int attemptsAtMost;

  public InferenceException(Kind kind, String message) {
    this(kind, message, null, 0);
  }

  public InferenceException(Kind kind, String message, Throwable cause) {
    this(kind, message, cause, 0);
  }

  private InferenceException(Kind kind, String message, Throwable cause, int attemptsAtMost) {
    super(message, cause);
    this.kind = kind;
    this.attemptsAtMost = attemptsAtMost;
  }

  public static InferenceException permanent(String message) {
    return new InferenceException(Kind.PERMANENT, message);
  }

  public static InferenceException transientFailure(String message) {
    return new InferenceException(Kind.TRANSIENT, message);
  }

  /**
   * A transient failure worth only a few tries whatever the job's own budget: a model that timed out once on a
   * billed instance will likely time out again.
   *
   * @param attempts how many attempts of the job's current run may end this way before it fails
   */
  public static InferenceException transientAtMost(int attempts, String message, Throwable cause) {
    if (attempts < 1) {
      throw new IllegalArgumentException("attempts must be at least 1: " + attempts);
    }
    return new InferenceException(Kind.TRANSIENT, message, cause, attempts);
  }

  public static InferenceException notReady(String message, Throwable cause) {
    return new InferenceException(Kind.NOT_READY, message, cause, 0);
  }

  public Kind kind() {
    return kind;
  }

  /** The attempts of a run this failure allows, or 0 when only the job's own budget ({@code max-attempts}) counts. */
  public int attemptsAtMost() {
    return attemptsAtMost;
  }
}
