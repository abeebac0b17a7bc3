package warmgate.service;

/**
 * An entity turned a command down because of the state it is in (a stop while jobs run, a start while
 * stopping); the edge answers 409 with the entity's own reason.
 */
public final class Refused extends RuntimeException {
  public Refused(String reason) {
    super(reason, null, false, false);
  }
}
