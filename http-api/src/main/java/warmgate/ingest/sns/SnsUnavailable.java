package warmgate.ingest.sns;

/**
 * Something SNS's message depends on could not be reached in time (the signing certificate, the subscribe
 * link). Nothing is decided: the edge answers 5xx so SNS delivers the message again.
 *
 * @param upstreamAnswered true when AWS answered with an error status (502), false when it did not answer (503)
 */
public final class SnsUnavailable extends RuntimeException {
  private final String code;
  private final boolean upstreamAnswered;

  public SnsUnavailable(String code, String message, boolean upstreamAnswered, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.upstreamAnswered = upstreamAnswered;
  }

  public String code() {
    return code;
  }

  public boolean upstreamAnswered() {
    return upstreamAnswered;
  }
}
