package warmgate.request;

import java.io.IOException;
import java.time.Duration;
import java.util.function.DoubleSupplier;
import warmgate.Backoff;
import warmgate.Failures;
import warmgate.Json;
import warmgate.blob.BlobInfo;
import warmgate.blob.BlobRefusedException;
import warmgate.request.RequestCommand.ErrorReportRefused;
import warmgate.request.RequestCommand.ErrorReportWritten;
import warmgate.request.RequestCommand.JobView;
import warmgate.request.RequestState.Failed;

/**
 * A failed job's {@code {base}_error.json}: written once, tried again after a transient failure ({@code backoff-min}
 * doubling, half of it random), given up for good when the store refuses it.
 */
final class ErrorReportDuty extends Duty {
  private final Duration backoffMin;
  private final Duration backoffMax;
  private final DoubleSupplier random;
  private int failures;

  ErrorReportDuty(Duration backoffMin, Duration backoffMax, DoubleSupplier random) {
    this.backoffMin = backoffMin;
    this.backoffMax = backoffMax;
    this.random = random;
  }

  /** Whether to write the report now: the job owes it and no write is under way (then one is). */
  boolean start(Failed state) {
    return state.owesReport() && start();
  }

  /** A write failed for now: counts it and says how long to wait before the next. */
  Duration failed() {
    answered();
    failures++;
    return Backoff.delay(backoffMin, backoffMax, failures, random.getAsDouble());
  }

  /** Written, or given up for good: nothing under way, no failures counted. */
  void ended() {
    answered();
    failures = 0;
  }

  /** Failed writes since the last one that ended the duty. */
  int failures() {
    return failures;
  }

  /** The content of {@code {base}_error.json}: the failed job as the API shows it. */
  static byte[] report(JobView job) {
    try {
      return Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(new ErrorReport(job));
    } catch (IOException e) {
      throw new IllegalStateException("an error report is plain JSON", e);
    }
  }

  /** What a write's outcome tells the job: written, worth another try, or refused for good. */
  static RequestCommand outcome(BlobInfo written, Throwable failure) {
    if (failure == null) {
      return new ErrorReportWritten(written.eTag(), null);
    }
    Throwable cause = Failures.unwrap(failure);
    return cause instanceof BlobRefusedException refused
        ? new ErrorReportRefused("the error report can never be written: " + refused.getMessage())
        : new ErrorReportWritten(null, String.valueOf(cause));
  }

  record ErrorReport(JobView job) {}
}
