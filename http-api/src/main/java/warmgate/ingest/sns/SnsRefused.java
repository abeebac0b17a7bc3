package warmgate.ingest.sns;

/**
 * A message that is well-formed but not believed: it may not have come from SNS, or not from a topic this
 * Warmgate listens to. The edge answers 403 with {@link #code()}; nothing was fetched on its word, nothing ingested.
 */
public final class SnsRefused extends RuntimeException {
  private final String code;

  public SnsRefused(String code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public String code() {
    return code;
  }
}
