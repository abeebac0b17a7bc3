package warmgate.provider.sagemaker;

import static warmgate.provider.sagemaker.SageMakerCalls.failed;
import static warmgate.provider.sagemaker.SageMakerCalls.settle;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import software.amazon.awssdk.services.sagemaker.SageMakerAsyncClient;
import software.amazon.awssdk.services.sagemaker.model.DescribeInferenceComponentResponse;
import software.amazon.awssdk.services.sagemaker.model.InferenceComponentStatus;
import warmgate.Failures;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.provider.EndpointProvider;
import warmgate.provider.ProviderState;
import warmgate.provider.ProviderState.Status;

/**
 * Binds one configured endpoint to an inference component scaled to zero ({@code provider = sagemaker-component}):
 * the SageMaker endpoint that hosts it stays up (created outside Warmgate, with managed instance scaling down to 0
 * instances), and starting and stopping set the component's copy count, {@code copies} or 0, with
 * UpdateInferenceComponentRuntimeConfig. Billed units are the copies running. Invocations name the component
 * ({@link SageMakerRealtime}); while its first copy is provisioned SageMaker answers that it has no capacity, which
 * sends the job back to the queue without using an attempt.
 *
 * <p>Keys of the endpoint's block: {@code endpoint-name} (required: the endpoint hosting the component),
 * {@code inference-component-name} (required), {@code copies} (1), and {@code region}, {@code endpoint-override},
 * {@code access-key-id}, {@code secret-access-key} as for {@link SageMakerEndpoint}.
 *
 * <p>Idempotent, as {@link EndpointProvider} requires: setting the copy count to what it already is succeeds, and so
 * does an update SageMaker refuses because the component is still being updated to the same count.
 */
public final class SageMakerComponentEndpoint implements EndpointProvider {

  // SageMaker's ValidationException about a missing inference component.
  private static final String NOT_FOUND = "Could not find inference component";

  private final String endpointName;
  private final String componentName;
  private final int copies;
  private final SageMakerAsyncClient control;

  SageMakerComponentEndpoint(String endpointName, String componentName, int copies, SageMakerAsyncClient control) {
    this.endpointName = endpointName;
    this.componentName = componentName;
    this.copies = copies;
    this.control = control;
  }

  /**
   * Reads the endpoint's block and binds it to clients from {@code clients}.
   *
   * @throws IllegalArgumentException when the block is incomplete or malformed
   */
  public static ManagedEndpoint bind(EndpointSettings settings, SageMakerClients clients) {
    SageMakerSettings.Component block = SageMakerSettings.component(settings);
    var provider = new SageMakerComponentEndpoint(block.endpointName(), block.componentName(), block.copies(),
        clients.controlPlane(block.connection()));
    var client = new SageMakerRealtime(block.endpointName(), block.componentName(), settings.invokeTimeout(),
        clients.runtime(block.connection()));
    return new ManagedEndpoint(settings, provider, client);
  }

  public String endpointName() {
    return endpointName;
  }

  public String componentName() {
    return componentName;
  }

  @Override
  public CompletionStage<ProviderState> describe() {
    return settle(control.describeInferenceComponent(b -> b.inferenceComponentName(componentName)), this::toState,
        failure -> {
          if (SageMakerCalls.isValidation(failure, NOT_FOUND)) {
            // The component is created outside Warmgate and kept; without it nothing can serve.
            return CompletableFuture.completedFuture(new ProviderState(Status.FAILED, "inference component "
                + componentName + " does not exist: create it on endpoint " + endpointName + " ("
                + SageMakerCalls.errorMessage(failure) + ")"));
          }
          return failed(failure("DescribeInferenceComponent", failure));
        });
  }

  /** Scales the component to {@code copies}. */
  @Override
  public CompletionStage<Void> start() {
    return scale(copies);
  }

  /** Scales the component to 0 copies: nothing is billed for it once they are gone. */
  @Override
  public CompletionStage<Void> stop() {
    return scale(0);
  }

  private CompletionStage<Void> scale(int count) {
    return settle(control.updateInferenceComponentRuntimeConfig(b -> b.inferenceComponentName(componentName)
        .desiredRuntimeConfig(c -> c.copyCount(count))), updated -> null, failure -> {
          RuntimeException refused = failure("UpdateInferenceComponentRuntimeConfig to " + count + " copies", failure);
          if (!SageMakerCalls.isValidation(failure, "") || SageMakerCalls.isValidation(failure, NOT_FOUND)) {
            return failed(refused);
          }
          // SageMaker refuses to update a component being updated; if that update is ours (the same count), this
          // call has nothing left to do.
          return control.describeInferenceComponent(b -> b.inferenceComponentName(componentName))
              .handle((r, describeFailure) -> {
                if (describeFailure == null && r.runtimeConfig() != null
                    && r.inferenceComponentStatus() != InferenceComponentStatus.FAILED
                    && r.runtimeConfig().desiredCopyCount() != null && r.runtimeConfig().desiredCopyCount() == count) {
                  return null;
                }
                if (describeFailure != null) {
                  refused.addSuppressed(Failures.unwrap(describeFailure));
                }
                throw refused;
              });
        });
  }

  /**
   * From the component's status and copies: none running and none wanted is ABSENT (nothing billed); copies wanted
   * but none running yet is CREATING; none wanted while some still run is DELETING; copies running is IN_SERVICE (or
   * UPDATING while their count changes).
   */
  ProviderState toState(DescribeInferenceComponentResponse r) {
    String word = r.inferenceComponentStatusAsString();
    if (word == null || word.isBlank()) {
      throw new IllegalArgumentException("SageMaker inference component " + componentName + " has no status");
    }
    int current = r.runtimeConfig() == null || r.runtimeConfig().currentCopyCount() == null ? 0
        : r.runtimeConfig().currentCopyCount();
    int desired = r.runtimeConfig() == null || r.runtimeConfig().desiredCopyCount() == null ? 0
        : r.runtimeConfig().desiredCopyCount();
    String detail = word + " (copies: " + current + " running, " + desired + " wanted)"
        + (r.failureReason() == null || r.failureReason().isBlank() ? "" : ": " + r.failureReason());
    InferenceComponentStatus status = r.inferenceComponentStatus();
    Status mapped;
    if (status == InferenceComponentStatus.UNKNOWN_TO_SDK_VERSION) {
      throw new IllegalStateException("SageMaker inference component " + componentName + " is in status '" + word
          + "', which this version of Warmgate does not know");
    } else if (status == InferenceComponentStatus.FAILED) {
      mapped = Status.FAILED;
    } else if (status == InferenceComponentStatus.DELETING) {
      mapped = Status.DELETING;
    } else if (current == 0) {
      mapped = desired == 0 ? Status.ABSENT : Status.CREATING;
    } else if (desired == 0) {
      mapped = Status.DELETING;
    } else if (status == InferenceComponentStatus.IN_SERVICE) {
      mapped = Status.IN_SERVICE;
    } else if (status == InferenceComponentStatus.UPDATING) {
      mapped = Status.UPDATING;
    } else {
      mapped = Status.CREATING;
    }
    return new ProviderState(mapped, detail).withBilledUnits(Math.max(1, current));
  }

  private RuntimeException failure(String operation, Throwable failure) {
    return new IllegalStateException("SageMaker " + operation + " of inference component " + componentName
        + " failed: " + SageMakerCalls.describeError(failure), failure);
  }
}
