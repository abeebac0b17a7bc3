package warmgate.request;

import java.io.IOException;
import java.time.Instant;
import java.util.Locale;
import java.util.function.DoubleSupplier;
import warmgate.Failures;
import warmgate.Json;
import warmgate.config.WebhookSettings;
import warmgate.job.JobStatus;
import warmgate.request.RequestCommand.CallbackAnswered;
import warmgate.request.RequestCommand.JobView;
import warmgate.request.RequestState.Callback;
import warmgate.request.RequestState.JobCore;

/**
 * The notice a job with a {@code callbackUrl} owes: a signed webhook, delivered again with backoff until the receiver
 * answers 2xx or {@code max-attempts} deliveries failed. The notice itself (status, failures, next try) is in the
 * job's state; this keeps the delivery under way and the retry policy.
 */
final class CallbackDuty extends Duty {
  private final WebhookSettings policy;
  private final DoubleSupplier random;

  CallbackDuty(WebhookSettings policy, DoubleSupplier random) {
    this.policy = policy;
    this.random = random;
  }

  /** Whether to deliver {@code due} now: a notice is owed and no delivery is under way (then one is). */
  boolean start(Callback due) {
    return due != null && start();
  }

  /** When to deliver again after failed delivery number {@code attempt}; null: given up. */
  Instant retryAt(int attempt, Instant now) {
    return attempt >= policy.maxAttempts() ? null : now.plus(policy.backoff(attempt, random.getAsDouble()));
  }

  /** The receiver took the notice (2xx). */
  static boolean delivered(CallbackAnswered answer) {
    return answer.failure() == null && answer.httpStatus() >= 200 && answer.httpStatus() < 300;
  }

  /** Why a delivery failed. */
  static String error(CallbackAnswered answer) {
    return answer.failure() != null ? answer.failure() : "the receiver answered HTTP " + answer.httpStatus();
  }

  /** The delivery's outcome as the job's command. */
  static CallbackAnswered answer(JobStatus status, int attempt, Integer httpStatus, Throwable failure) {
    return failure == null
        ? new CallbackAnswered(status, attempt, httpStatus, null)
        : new CallbackAnswered(status, attempt, 0, String.valueOf(Failures.unwrap(failure)));
  }

  /** The same for every delivery of one notice; a redrive makes the next notices new ones. */
  static String webhookId(JobCore core, JobStatus status) {
    return core.jobId() + "." + core.redrives() + "." + status.name().toLowerCase(Locale.ROOT);
  }

  /** What a callback posts. */
  static byte[] body(String id, JobStatus status, JobView job) {
    try {
      return Json.mapper().writeValueAsBytes(new CallbackBody(id, "job." + status.name().toLowerCase(Locale.ROOT),
          job));
    } catch (IOException e) {
      throw new IllegalStateException("a callback body is plain JSON", e);
    }
  }

  record CallbackBody(String id, String type, JobView job) {}
}
