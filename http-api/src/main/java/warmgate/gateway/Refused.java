package warmgate.gateway;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.pattern.StatusReply;
import warmgate.Failures;
import warmgate.request.RequestEntity;

/**
 * An entity turned a command down because of the state it is in (cancelling a finished job, stopping an
 * endpoint while jobs run); the edge answers 409 with the entity's own reason.
 */
public final class Refused extends RuntimeException {
  public Refused(String reason) {
    super(reason, null, false, false);
  }

  /**
   * Turns the error reply of an {@code askWithStatus} into a {@link Refused}, or a {@link TryLater} when the
   * entity says so; other failures pass unchanged.
   */
  static <T> CompletionStage<T> fromStatusReply(CompletionStage<T> answer) {
    return answer.exceptionallyCompose(failure -> {
      Throwable cause = Failures.unwrap(failure);
      if (cause instanceof StatusReply.ErrorMessage refusal) {
        String reason = refusal.getMessage();
        return CompletableFuture.failedFuture(reason.startsWith(RequestEntity.UNAVAILABLE)
            ? new TryLater(reason.substring(RequestEntity.UNAVAILABLE.length()))
            : new Refused(reason));
      }
      return CompletableFuture.failedFuture(cause);
    });
  }
}
