package warmgate.auth;

/** An authenticated principal asked for something its token does not allow; the edge answers 403. */
public final class Forbidden extends RuntimeException {
  public Forbidden(String message) {
    super(message, null, false, false);
  }
}
