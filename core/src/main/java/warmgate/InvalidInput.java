package warmgate;

/**
 * Input that Warmgate refuses: a malformed notification, job or setting. The HTTP edge answers it with
 * 400 and a JSON error body carrying {@link #code()}; nothing has been persisted when it is thrown.
 */
public final class InvalidInput extends RuntimeException {
  private final String code;

  public InvalidInput(String code, String message) {
    super(message);
    this.code = code;
  }

  public String code() {
    return code;
  }
}
