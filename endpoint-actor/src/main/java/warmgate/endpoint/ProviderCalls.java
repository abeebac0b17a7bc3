package warmgate.endpoint;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.japi.function.Function2;
import warmgate.Failures;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.EndpointCommand.Described;
import warmgate.endpoint.EndpointCommand.ProviderCallDone;
import warmgate.endpoint.EndpointCommand.ProviderCallFailed;
import warmgate.endpoint.EndpointCommand.StoppedToLeave;
import warmgate.provider.EndpointProvider;

/**
 * How the endpoint entity talks to its provider, with no actor in it: describe (one at a time, at the pace the entity
 * asks for, once more when news arrives during one), start and stop (one at a time), and how long to back off after
 * a failed start. Each outcome comes back to the entity as a message through a {@link Pipe}.
 */
final class ProviderCalls {

  /** How a call's outcome reaches the entity: {@code ActorContext::pipeToSelf}. */
  interface Pipe {
    <T> void pipe(CompletionStage<T> call, Function2<T, Throwable, EndpointCommand> toMessage);
  }

  private final EndpointProvider provider;
  private final Pipe pipe;
  private final Duration statusPollInterval;
  /** The entity's timer, which decides how early a due describe may come. */
  private final Duration tick;
  /** Monotonic, not the domain clock: polling pace is about real elapsed time, even under a test clock. */
  private long lastDescribeNanos = System.nanoTime() - Duration.ofDays(1).toNanos();
  private boolean describing;
  private boolean describeAgain;
  private boolean inFlight;

  ProviderCalls(EndpointProvider provider, EndpointSettings settings, Duration tick, Pipe pipe) {
    this.provider = provider;
    this.pipe = pipe;
    this.statusPollInterval = settings.statusPollInterval();
    this.tick = tick;
  }

  /** Whether a start or stop has not answered yet. */
  boolean inFlight() {
    return inFlight;
  }

  /** Starts from {@code configuration}, one of the provider's, or null for its only one. */
  void start(String configuration) {
    call("start", configuration == null ? provider.start() : provider.start(configuration));
  }

  void stop() {
    call("stop", provider.stop());
  }

  /** Stops the endpoint as its entity leaves the node; the outcome comes back as {@link StoppedToLeave}. */
  void stopToLeave() {
    pipe.pipe(provider.stop(), (ok, failure) -> new StoppedToLeave(failure == null ? null : reason(failure)));
  }

  void describe() {
    if (describing) {
      return;
    }
    describing = true;
    lastDescribeNanos = System.nanoTime();
    pipe.pipe(provider.describe(), (state, failure) ->
        failure == null ? new Described(state) : new ProviderCallFailed("describe", reason(failure)));
  }

  /**
   * Describes when the last describe is {@code interval} old, give or take half a tick: ticks come a scheduler
   * tick early or late, and a strict comparison would skip every other one, polling at twice the interval.
   */
  void describeIfDue(Duration interval) {
    if (System.nanoTime() - lastDescribeNanos >= interval.toNanos() - tick.toNanos() / 2) {
      describe();
    }
  }

  /** An answer (or failure) of describe arrived; a push that came meanwhile asks once more. */
  void described() {
    describing = false;
    if (describeAgain) {
      describeAgain = false;
      describe();
    }
  }

  /** The provider's own news of a change: a reason to describe now, not a fact. */
  void pushed() {
    if (describing) {
      describeAgain = true; // the answer on its way may predate the change
    } else {
      describe();
    }
  }

  /** A start or stop was accepted: see its effect without waiting for the next poll. */
  void done() {
    inFlight = false;
    describe();
  }

  void failed(ProviderCallFailed failure) {
    if (failure.operation().equals("describe")) {
      described();
    } else {
      inFlight = false;
    }
  }

  /** Doubles from the status poll interval up to five minutes: a broken endpoint is not hammered. */
  Duration startBackoff(int failures) {
    long base = Math.max(1000, statusPollInterval.toMillis());
    long millis = base << Math.min(failures, 16);
    return Duration.ofMillis(Math.min(millis, Duration.ofMinutes(5).toMillis()));
  }

  private void call(String operation, CompletionStage<Void> call) {
    inFlight = true;
    pipe.pipe(call, (ok, failure) ->
        failure == null ? new ProviderCallDone(operation) : new ProviderCallFailed(operation, reason(failure)));
  }

  private static String reason(Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    return cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
  }
}
