package warmgate.provider;

/**
 * A failed model call. {@link Kind#PERMANENT} errors (the model rejected the input) fail the job at once;
 * {@link Kind#TRANSIENT} ones (throttling, 5xx, timeouts, endpoint not ready) are retried with backoff.
 */
public final class InferenceException extends RuntimeException {
  public enum Kind {
    PERMANENT,
    TRANSIENT
  }

  private final Kind kind;

  public InferenceException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public InferenceException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public static InferenceException permanent(String message) {
    return new InferenceException(Kind.PERMANENT, message);
  }

  public static InferenceException transientFailure(String message) {
    return new InferenceException(Kind.TRANSIENT, message);
  }

  public Kind kind() {
    return kind;
  }
}
