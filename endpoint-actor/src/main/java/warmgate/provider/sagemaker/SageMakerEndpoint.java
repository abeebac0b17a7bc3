package warmgate.provider.sagemaker;

import static warmgate.provider.sagemaker.SageMakerCalls.failed;
import static warmgate.provider.sagemaker.SageMakerCalls.settle;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import software.amazon.awssdk.services.sagemaker.SageMakerAsyncClient;
import software.amazon.awssdk.services.sagemaker.model.DescribeEndpointResponse;
import software.amazon.awssdk.services.sagemaker.model.EndpointStatus;
import warmgate.Failures;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.provider.EndpointProvider;
import warmgate.provider.ProviderState;
import warmgate.provider.ProviderState.Status;

/**
 * Binds one configured endpoint to a SageMaker endpoint in the on-demand pattern: the EndpointConfig (model,
 * instance type, count) is created once outside Warmgate and kept; starting creates the endpoint from it and
 * stopping deletes the endpoint, so nothing is billed while cold. Real-time endpoints ({@code provider = sagemaker})
 * are invoked through {@link SageMakerRealtime}, asynchronous ones ({@code sagemaker-async}) through
 * {@link SageMakerAsync}; both start and stop the same way.
 *
 * <p>Keys of {@code warmgate.endpoints.<name>.sagemaker}:
 *
 * <ul>
 *   <li>{@code endpoint-config-name}: the EndpointConfig to create the endpoint from; or
 *       {@code endpoint-config-names}: several, tried in this order when a start fails for want of capacity
 *       ({@link #configurations()}). Exactly one of the two.
 *   <li>{@code endpoint-name}: the SageMaker endpoint's name; default the Warmgate endpoint's name.
 *   <li>{@code region}: default {@code us-east-1}.
 *   <li>{@code endpoint-override}: the URL of a SageMaker-compatible service for both the control plane and
 *       the runtime; empty or absent means AWS.
 *   <li>{@code access-key-id}, {@code secret-access-key}: static credentials; empty or absent means the
 *       SDK's default credentials chain (environment, profile, container or instance role).
 * </ul>
 *
 * <p>Every provider call is idempotent, as {@link EndpointProvider} requires: creating an endpoint that
 * exists and deleting one that is gone or going both succeed.
 */
public final class SageMakerEndpoint implements EndpointProvider {

  public static final String DEFAULT_REGION = SageMakerSettings.DEFAULT_REGION;

  // SageMaker's control plane answers every one of these with a bare ValidationException; only the message
  // tells them apart.
  private static final String NOT_FOUND = "Could not find endpoint";
  private static final String CONFIG_NOT_FOUND = "Could not find endpoint configuration";
  private static final String ALREADY_EXISTS = "Cannot create already existing endpoint";

  /**
   * How a FailureReason says that the endpoint failed for want of capacity: "Unable to provision requested ML
   * compute capacity due to InsufficientInstanceCapacity error. Please retry using a different ML instance type or
   * after some time." (and SageMaker's older "CapacityError: Unable to provision ...").
   */
  private static final List<String> CAPACITY_WORDS = List.of(
      "unable to provision requested ml compute capacity", "insufficientinstancecapacity", "capacityerror");

  private final String endpointName;
  private final List<String> endpointConfigNames;
  private final SageMakerAsyncClient control;

  SageMakerEndpoint(String endpointName, List<String> endpointConfigNames, SageMakerAsyncClient control) {
    this.endpointName = endpointName;
    this.endpointConfigNames = List.copyOf(endpointConfigNames);
    this.control = control;
  }

  /**
   * Binds a real-time endpoint ({@code provider = sagemaker}): its {@code sagemaker} block, with clients from
   * {@code clients}.
   *
   * @throws IllegalArgumentException when the block is incomplete or malformed
   */
  public static ManagedEndpoint bind(EndpointSettings settings, SageMakerClients clients) {
    SageMakerSettings.Block block = SageMakerSettings.block(settings);
    var endpoint = new SageMakerEndpoint(block.endpointName(), block.endpointConfigNames(),
        clients.controlPlane(block.connection()));
    var client = new SageMakerRealtime(block.endpointName(), null, settings.invokeTimeout(),
        clients.runtime(block.connection()));
    return new ManagedEndpoint(settings, endpoint, client);
  }

  /**
   * Checks the endpoint's {@code sagemaker} block.
   *
   * @throws IllegalArgumentException when the block is incomplete or malformed
   */
  static void validate(EndpointSettings settings) {
    SageMakerSettings.block(settings);
  }

  /** The SageMaker endpoint's name, which may differ from the Warmgate endpoint's. */
  public String endpointName() {
    return endpointName;
  }

  // ---- EndpointProvider

  @Override
  public CompletionStage<ProviderState> describe() {
    return settle(control.describeEndpoint(b -> b.endpointName(endpointName)), SageMakerEndpoint::toState, failure -> {
      if (isValidation(failure, NOT_FOUND)) {
        return CompletableFuture.completedFuture(new ProviderState(Status.ABSENT, "absent"));
      }
      return failed(controlPlaneFailure("DescribeEndpoint", failure));
    });
  }

  /**
   * The EndpointConfigs of {@code endpoint-config-names}, in order; empty when the block names one
   * ({@code endpoint-config-name}), which {@link #start()} uses.
   */
  @Override
  public List<String> configurations() {
    return endpointConfigNames.size() > 1 ? endpointConfigNames : List.of();
  }

  @Override
  public CompletionStage<Void> start() {
    return start(endpointConfigNames.get(0));
  }

  @Override
  public CompletionStage<Void> start(String configuration) {
    if (!endpointConfigNames.contains(configuration)) {
      return failed(new IllegalArgumentException("SageMaker endpoint " + endpointName + " is not configured with "
          + "EndpointConfig '" + configuration + "'; its configurations are " + endpointConfigNames));
    }
    return settle(
        control.createEndpoint(b -> b.endpointName(endpointName).endpointConfigName(configuration)),
        created -> null,
        failure -> isValidation(failure, ALREADY_EXISTS)
            // Ours from an earlier try, or one still being deleted: describe tells the lifecycle which.
            ? CompletableFuture.<Void>completedFuture(null)
            : failed(controlPlaneFailure("CreateEndpoint", failure)));
  }

  @Override
  public CompletionStage<Void> stop() {
    return settle(control.deleteEndpoint(b -> b.endpointName(endpointName)), deleted -> null, failure -> {
      if (isValidation(failure, NOT_FOUND)) {
        return CompletableFuture.<Void>completedFuture(null);
      }
      if (!isValidation(failure, "")) {
        return failed(controlPlaneFailure("DeleteEndpoint", failure));
      }
      // SageMaker refuses to delete an endpoint in progress, which includes one already being deleted; only
      // describe says whether this refusal means our stop has already landed.
      RuntimeException refused = controlPlaneFailure("DeleteEndpoint", failure);
      return describe().toCompletableFuture().handle((state, describeFailure) -> {
        if (describeFailure == null && (state.status() == Status.DELETING || state.status() == Status.ABSENT)) {
          return null;
        }
        if (describeFailure != null) {
          refused.addSuppressed(Failures.unwrap(describeFailure));
        }
        throw refused;
      });
    });
  }

  private static ProviderState toState(DescribeEndpointResponse r) {
    return stateOf(r.endpointName(), r.endpointStatusAsString(), r.failureReason());
  }

  /**
   * Maps a SageMaker endpoint status word to what the lifecycle acts on: as DescribeEndpoint answers it
   * ({@code InService}) or as EventBridge's {@code SageMaker Endpoint State Change} events push it
   * ({@code IN_SERVICE}).
   *
   * @throws IllegalStateException for a status this SDK does not know: guessing could start a second
   *     endpoint or stop a serving one
   */
  public static ProviderState stateOf(String endpointName, String statusWord, String failureReason) {
    if (statusWord == null || statusWord.isBlank()) {
      throw new IllegalArgumentException("SageMaker endpoint " + endpointName + " has no status");
    }
    String detail = failureReason == null || failureReason.isBlank() ? statusWord : statusWord + ": " + failureReason;
    Status status = switch (EndpointStatus.fromValue(apiSpelling(statusWord))) {
      case CREATING -> Status.CREATING;
      case UPDATING, SYSTEM_UPDATING, ROLLING_BACK -> Status.UPDATING;
      case IN_SERVICE -> Status.IN_SERVICE;
      case DELETING -> Status.DELETING;
      case FAILED, UPDATE_ROLLBACK_FAILED, OUT_OF_SERVICE -> Status.FAILED;
      case UNKNOWN_TO_SDK_VERSION -> throw new IllegalStateException(
          "SageMaker endpoint " + endpointName + " is in status '" + statusWord
              + "', which this version of Warmgate does not know");
    };
    if (status == Status.FAILED && isCapacityShortage(failureReason)) {
      return ProviderState.capacityShortage(detail);
    }
    return new ProviderState(status, detail);
  }

  /** Whether a FailureReason says that SageMaker had no instances of the configured type to give. */
  static boolean isCapacityShortage(String failureReason) {
    if (failureReason == null) {
      return false;
    }
    String reason = failureReason.toLowerCase(Locale.ROOT);
    return CAPACITY_WORDS.stream().anyMatch(reason::contains);
  }

  /** {@code IN_SERVICE} (EventBridge) to {@code InService} (the API); the API's own spelling passes unchanged. */
  private static String apiSpelling(String statusWord) {
    if (!statusWord.matches("[A-Z]+(_[A-Z]+)*")) {
      return statusWord;
    }
    StringBuilder word = new StringBuilder(statusWord.length());
    for (String part : statusWord.split("_")) {
      word.append(part.charAt(0)).append(part.substring(1).toLowerCase(Locale.ROOT));
    }
    return word.toString();
  }

  private RuntimeException controlPlaneFailure(String operation, Throwable failure) {
    return new IllegalStateException(
        "SageMaker " + operation + " of endpoint " + endpointName + " failed: " + SageMakerCalls.describeError(failure),
        failure);
  }

  /** A ValidationException whose message contains {@code text} ("" matches any), about the endpoint. */
  private static boolean isValidation(Throwable t, String text) {
    if (text.equals(NOT_FOUND) && SageMakerCalls.errorMessage(t).contains(CONFIG_NOT_FOUND)) {
      return false; // a missing EndpointConfig is a configuration error, not a missing endpoint
    }
    return SageMakerCalls.isValidation(t, text);
  }
}
