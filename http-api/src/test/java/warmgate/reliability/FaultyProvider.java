package warmgate.reliability;

import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import warmgate.endpoint.FakeProvider;
import warmgate.provider.EndpointProvider;
import warmgate.provider.ProviderState;
import warmgate.provider.ProviderState.Status;

/**
 * Stands between the endpoint's lifecycle and a {@link FakeProvider} (the endpoint's truth, which the model reads
 * too) and injects, at seeded random, the control-plane faults SageMaker shows: start requests refused or throttled,
 * creates that end Failed or never come into service, throttled describes, and an endpoint that turns Failed while
 * it serves. Refusals take the shape {@code SageMakerEndpoint} gives them, an {@link IllegalStateException} naming
 * the operation around the SDK's {@link AwsServiceException}, so they reach the lifecycle by the same path.
 *
 * <p>Every fault is bounded, so a job's worst case can be computed ({@link JobDeadline}): at most
 * {@code maxFailedStartsInARow} failed starts before one succeeds, at most {@code maxThrottledDescribesInARow}
 * throttled describes in a row, and an endpoint that came into service serves for {@code healthyAtLeast} before it
 * may fail again.
 */
final class FaultyProvider implements EndpointProvider {

  /**
   * @param startFailure chance that a start fails (refused, throttled, the create fails, or it hangs)
   * @param describeThrottle chance that a describe is throttled
   * @param coldStartMax a successful create comes into service after a random time up to this
   * @param failWhileBusy chance, at each describe of an endpoint in service that was invoked since the last describe,
   *     that it turns Failed (an instance lost while it drains the jobs); it comes back when the lifecycle stops and
   *     starts it again
   */
  record Plan(double startFailure, int maxFailedStartsInARow, double describeThrottle, int maxThrottledDescribesInARow,
      Duration coldStartMax, double failWhileBusy, Duration healthyAtLeast) {}

  enum StartFault { REFUSED, THROTTLED, CREATE_FAILS, CREATE_HANGS }

  private enum Create { SUCCEEDS, FAILS, HANGS }

  private final FakeProvider truth;
  private final Plan plan;
  private final Random random;
  private final LongSupplier invocations;
  private long invocationsSeen;
  private final Map<String, Integer> counts = new TreeMap<>();
  private int failedStartsInARow;
  private int throttledInARow;
  private Create create = Create.SUCCEEDS;
  private long createDoneAtNanos;
  private long healthyUntilNanos;

  /** @param invocations how many invocations the model has had so far */
  FaultyProvider(FakeProvider truth, Plan plan, Random random, LongSupplier invocations) {
    this.truth = truth;
    this.plan = plan;
    this.random = random;
    this.invocations = invocations;
  }

  @Override
  public synchronized CompletionStage<ProviderState> describe() {
    if (throttledInARow < plan.maxThrottledDescribesInARow() && chance(plan.describeThrottle())) {
      throttledInARow++;
      count("describe throttled");
      return CompletableFuture.failedFuture(throttled("DescribeEndpoint"));
    }
    throttledInARow = 0;
    long now = System.nanoTime();
    Status status = truth.status();
    long invoked = invocations.getAsLong();
    boolean busy = invoked > invocationsSeen;
    invocationsSeen = invoked;
    if (status == Status.CREATING && now - createDoneAtNanos >= 0) {
      switch (create) {
        case SUCCEEDS -> {
          truth.set(Status.IN_SERVICE);
          failedStartsInARow = 0;
          healthyUntilNanos = now + plan.healthyAtLeast().toNanos();
          count("came into service");
        }
        case FAILS -> truth.set(new ProviderState(Status.FAILED,
            "Failed: the primary container did not pass the ping health check"));
        case HANGS -> { } // stays Creating until the lifecycle's start-timeout gives up on it
      }
    } else if (status == Status.IN_SERVICE && now - healthyUntilNanos >= 0 && busy
        && chance(plan.failWhileBusy())) {
      truth.set(new ProviderState(Status.FAILED, "Failed: an instance was lost while serving"));
      count("failed while serving");
    }
    return truth.describe();
  }

  @Override
  public synchronized CompletionStage<Void> start() {
    if (truth.status() != Status.ABSENT) {
      count("start while " + truth.status());
      return truth.start(); // idempotent, as SageMaker's "already exists" is for SageMakerEndpoint
    }
    if (failedStartsInARow >= plan.maxFailedStartsInARow() || !chance(plan.startFailure())) {
      create = Create.SUCCEEDS;
      createDoneAtNanos = System.nanoTime() + (long) (random.nextDouble() * plan.coldStartMax().toNanos());
      count("start accepted");
      return truth.start();
    }
    failedStartsInARow++;
    StartFault fault = StartFault.values()[random.nextInt(StartFault.values().length)];
    count("start " + fault.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '));
    return switch (fault) {
      case REFUSED -> CompletableFuture.failedFuture(controlPlane("CreateEndpoint",
          aws("ResourceLimitExceeded", 400,
              "The account-level service limit 'ml.g5.xlarge for endpoint usage' is 0 Instances")));
      case THROTTLED -> CompletableFuture.failedFuture(throttled("CreateEndpoint"));
      case CREATE_FAILS -> {
        create = Create.FAILS;
        createDoneAtNanos = System.nanoTime() + (long) (random.nextDouble() * plan.coldStartMax().toNanos());
        yield truth.start();
      }
      case CREATE_HANGS -> {
        create = Create.HANGS;
        yield truth.start();
      }
    };
  }

  @Override
  public synchronized CompletionStage<Void> stop() {
    count("stop");
    return truth.stop();
  }

  /** How often each fault and call happened. */
  synchronized Map<String, Integer> counts() {
    return new TreeMap<>(counts);
  }

  private boolean chance(double p) {
    return random.nextDouble() < p;
  }

  private void count(String what) {
    counts.merge(what, 1, Integer::sum);
  }

  private static IllegalStateException throttled(String operation) {
    return controlPlane(operation, aws("ThrottlingException", 400, "Rate exceeded"));
  }

  /** What SageMakerEndpoint makes of a refused control-plane call. */
  private static IllegalStateException controlPlane(String operation, AwsServiceException cause) {
    return new IllegalStateException("SageMaker " + operation + " of endpoint gen3d failed: "
        + cause.awsErrorDetails().errorCode()
        + " (HTTP " + cause.statusCode() + "): " + cause.awsErrorDetails().errorMessage(), cause);
  }

  private static AwsServiceException aws(String code, int status, String message) {
    return AwsServiceException.builder()
        .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(message).serviceName("SageMaker")
            .build())
        .statusCode(status)
        .message(message)
        .build();
  }
}
