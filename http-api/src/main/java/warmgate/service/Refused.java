package warmgate.service;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.pattern.StatusReply;

/**
 * An entity turned a command down because of the state it is in (cancelling a finished job, stopping an
 * endpoint while jobs run); the edge answers 409 with the entity's own reason.
 */
public final class Refused extends RuntimeException {
  public Refused(String reason) {
    super(reason, null, false, false);
  }

  /** Turns the error reply of an {@code askWithStatus} into a {@link Refused}; other failures pass unchanged. */
  static <T> CompletionStage<T> fromStatusReply(CompletionStage<T> answer) {
    return answer.exceptionallyCompose(failure -> {
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
      return CompletableFuture.failedFuture(
          cause instanceof StatusReply.ErrorMessage refusal ? new Refused(refusal.getMessage()) : cause);
    });
  }
}
