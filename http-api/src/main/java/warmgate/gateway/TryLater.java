package warmgate.gateway;

/**
 * An entity could not do what was asked for a passing reason (the blob store did not answer); the edge
 * answers 503 with {@code Retry-After}, and asking again is safe.
 */
public final class TryLater extends RuntimeException {
  public TryLater(String reason) {
    super(reason, null, false, false);
  }
}
