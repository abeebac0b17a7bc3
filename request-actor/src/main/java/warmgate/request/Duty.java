package warmgate.request;

/**
 * The bookkeeping of one side duty of a job (its error report, its callback, publishing an approved result):
 * one try at a time. The entity makes each try (pipeToSelf) and arms the timers; a duty only keeps count of what
 * is under way and what failed, so it is tested without actors. Never persisted: what a job still owes is in its
 * state, and a restart starts with nothing under way.
 */
class Duty {
  private boolean underWay;

  /** Begins a try unless one is under way; true: the caller makes it now. */
  final boolean start() {
    if (underWay) {
      return false;
    }
    underWay = true;
    return true;
  }

  /** The try under way answered, whatever it said: another may start. */
  final void answered() {
    underWay = false;
  }

  final boolean underWay() {
    return underWay;
  }
}
