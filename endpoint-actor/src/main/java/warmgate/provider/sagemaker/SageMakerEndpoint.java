package warmgate.provider.sagemaker;

import com.typesafe.config.Config;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.sagemaker.SageMakerAsyncClient;
import software.amazon.awssdk.services.sagemaker.model.DescribeEndpointResponse;
import software.amazon.awssdk.services.sagemaker.model.EndpointStatus;
import software.amazon.awssdk.services.sagemakerruntime.SageMakerRuntimeAsyncClient;
import software.amazon.awssdk.services.sagemakerruntime.model.InternalDependencyException;
import software.amazon.awssdk.services.sagemakerruntime.model.InternalFailureException;
import software.amazon.awssdk.services.sagemakerruntime.model.InvokeEndpointRequest;
import software.amazon.awssdk.services.sagemakerruntime.model.InvokeEndpointResponse;
import software.amazon.awssdk.services.sagemakerruntime.model.ModelErrorException;
import software.amazon.awssdk.services.sagemakerruntime.model.ModelNotReadyException;
import software.amazon.awssdk.services.sagemakerruntime.model.ServiceUnavailableException;
import software.amazon.awssdk.services.sagemakerruntime.model.ValidationErrorException;
import warmgate.Failures;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.provider.EndpointProvider;
import warmgate.provider.InferenceClient;
import warmgate.provider.InferenceException;
import warmgate.provider.ProviderState;
import warmgate.provider.ProviderState.Status;

/**
 * Binds one configured endpoint to a SageMaker real-time endpoint in the on-demand pattern: the
 * EndpointConfig (model, instance type, count) is created once outside Warmgate and kept; starting creates
 * the endpoint from it and stopping deletes the endpoint, so nothing is billed while cold.
 *
 * <p>Keys of {@code warmgate.endpoints.<name>.sagemaker}:
 *
 * <ul>
 *   <li>{@code endpoint-config-name} (required): the EndpointConfig to create the endpoint from.
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
public final class SageMakerEndpoint implements EndpointProvider, InferenceClient {

  public static final String DEFAULT_REGION = "us-east-1";

  // SageMaker's control plane answers every one of these with a bare ValidationException; only the message
  // tells them apart.
  private static final String NOT_FOUND = "Could not find endpoint";
  private static final String CONFIG_NOT_FOUND = "Could not find endpoint configuration";
  private static final String ALREADY_EXISTS = "Cannot create already existing endpoint";

  private final String endpointName;
  private final String endpointConfigName;
  private final Duration invokeTimeout;
  private final SageMakerAsyncClient control;
  private final SageMakerRuntimeAsyncClient runtime;

  private SageMakerEndpoint(
      String endpointName, String endpointConfigName, Duration invokeTimeout,
      SageMakerAsyncClient control, SageMakerRuntimeAsyncClient runtime) {
    this.endpointName = endpointName;
    this.endpointConfigName = endpointConfigName;
    this.invokeTimeout = invokeTimeout;
    this.control = control;
    this.runtime = runtime;
  }

  /**
   * Reads the endpoint's {@code sagemaker} block and binds it to clients from {@code clients}.
   *
   * @throws IllegalArgumentException when the block is incomplete or malformed
   */
  public static ManagedEndpoint bind(EndpointSettings settings, SageMakerClients clients) {
    Block block = connectionOf(settings);
    var endpoint = new SageMakerEndpoint(
        block.endpointName(), block.endpointConfigName(), settings.invokeTimeout(),
        clients.controlPlane(block.connection()), clients.runtime(block.connection()));
    return new ManagedEndpoint(settings, endpoint, endpoint);
  }

  /** The endpoint's {@code sagemaker} block, read and checked. */
  record Block(String endpointName, String endpointConfigName, SageMakerClients.Connection connection) {}

  /**
   * Reads the endpoint's {@code sagemaker} block.
   *
   * @throws IllegalArgumentException when the block is incomplete or malformed
   */
  static Block connectionOf(EndpointSettings settings) {
    Config c = settings.providerConfig();
    String where = "endpoint " + settings.name() + ": sagemaker.";
    String configName = optional(c, "endpoint-config-name");
    if (configName == null) {
      throw new IllegalArgumentException(where
          + "endpoint-config-name is required (the pre-created EndpointConfig to start from)");
    }
    String name = optional(c, "endpoint-name");
    String region = optional(c, "region");
    String override = optional(c, "endpoint-override");
    URI overrideUri = null;
    if (override != null) {
      try {
        overrideUri = URI.create(override);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + "endpoint-override '" + override + "' is not a URL", e);
      }
      if (overrideUri.getScheme() == null || overrideUri.getHost() == null) {
        throw new IllegalArgumentException(where + "endpoint-override '" + override + "' needs a scheme and a host");
      }
    }
    SageMakerClients.Connection connection;
    try {
      connection = new SageMakerClients.Connection(
          region == null ? DEFAULT_REGION : region, overrideUri, optional(c, "access-key-id"), optional(c,
              "secret-access-key"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + e.getMessage(), e);
    }
    return new Block(name == null ? settings.name() : name, configName, connection);
  }

  private static String optional(Config c, String key) {
    if (!c.hasPath(key)) {
      return null;
    }
    String value = c.getString(key).trim();
    return value.isEmpty() ? null : value;
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

  @Override
  public CompletionStage<Void> start() {
    return settle(
        control.createEndpoint(b -> b.endpointName(endpointName).endpointConfigName(endpointConfigName)),
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
    return new ProviderState(status, detail);
  }

  /** {@code IN_SERVICE} (EventBridge) to {@code InService} (the API); the API's own spelling passes unchanged. */
  private static String apiSpelling(String statusWord) {
    if (!statusWord.matches("[A-Z]+(_[A-Z]+)*")) {
      return statusWord;
    }
    StringBuilder word = new StringBuilder(statusWord.length());
    for (String part : statusWord.split("_")) {
      word.append(part.charAt(0)).append(part.substring(1).toLowerCase(java.util.Locale.ROOT));
    }
    return word.toString();
  }

  private RuntimeException controlPlaneFailure(String operation, Throwable failure) {
    return new IllegalStateException(
        "SageMaker " + operation + " of endpoint " + endpointName + " failed: " + describeError(failure), failure);
  }

  // ---- InferenceClient

  @Override
  public CompletionStage<InferenceResponse> invoke(String contentType, byte[] body) {
    var request = InvokeEndpointRequest.builder()
        .endpointName(endpointName)
        .contentType(contentType)
        .body(SdkBytes.fromByteArray(body))
        .overrideConfiguration(o -> o.apiCallTimeout(invokeTimeout))
        .build();
    return settle(runtime.invokeEndpoint(request), SageMakerEndpoint::toResponse, failure -> failed(classify(failure)));
  }

  private static InferenceResponse toResponse(InvokeEndpointResponse r) {
    String contentType = r.contentType() == null ? "application/octet-stream" : r.contentType();
    return new InferenceResponse(r.body().asByteArrayUnsafe(), contentType);
  }

  /**
   * Only errors that say the input is at fault are permanent: the model rejecting it (a 4xx of its own) or
   * SageMaker refusing the request as invalid. Everything else can pass (throttling, capacity, a restarting
   * model, an endpoint not there yet, expiring credentials), and the job's retry budget bounds it.
   */
  InferenceException classify(Throwable failure) {
    Throwable t = Failures.unwrap(failure);
    String where = "SageMaker endpoint " + endpointName + ": ";
    if (t instanceof ApiCallTimeoutException) {
      return new InferenceException(InferenceException.Kind.TRANSIENT,
          where + "no answer within invoke-timeout (" + invokeTimeout.toMillis() + " ms)", t);
    }
    if (t instanceof ModelErrorException e) {
      Integer original = e.originalStatusCode();
      boolean inputRejected = original != null && original >= 400 && original < 500 && original != 408
          && original != 429;
      String message = where + "the model answered " + (original == null ? "an error" : original)
          + (e.originalMessage() == null ? "" : ": " + e.originalMessage())
          + (e.logStreamArn() == null ? "" : " (logs: " + e.logStreamArn() + ")");
      return new InferenceException(inputRejected ? InferenceException.Kind.PERMANENT
          : InferenceException.Kind.TRANSIENT, message, t);
    }
    if (t instanceof ValidationErrorException e) {
      String message = e.awsErrorDetails() == null ? "" : String.valueOf(e.awsErrorDetails().errorMessage());
      // "Endpoint X of account Y not found.": not created yet, or deleted under us; the lifecycle brings it back.
      boolean endpointMissing = message.contains("not found");
      return new InferenceException(
          endpointMissing ? InferenceException.Kind.TRANSIENT : InferenceException.Kind.PERMANENT, where
              + describeError(t), t);
    }
    if (t instanceof ModelNotReadyException || t instanceof ServiceUnavailableException
        || t instanceof InternalFailureException || t instanceof InternalDependencyException) {
      return new InferenceException(InferenceException.Kind.TRANSIENT, where + describeError(t), t);
    }
    if (t instanceof AwsServiceException e && e.statusCode() == 413) {
      return new InferenceException(InferenceException.Kind.PERMANENT, where + describeError(t), t);
    }
    // Throttling (429, ThrottlingException), any other 5xx, auth and credential errors, and SdkClientException:
    // connection failures, I/O errors and unreadable answers.
    return new InferenceException(InferenceException.Kind.TRANSIENT, where + describeError(t), t);
  }

  // ---- Helpers

  /**
   * Completes with {@code onSuccess} of the SDK's answer or the stage {@code onFailure} makes of its
   * failure, unwrapped. Callers get the failure itself, not a {@link CompletionException} around it.
   */
  private static <R, T> CompletionStage<T> settle(
      CompletableFuture<R> call, Function<R, T> onSuccess, Function<Throwable, CompletionStage<T>> onFailure) {
    CompletableFuture<T> result = new CompletableFuture<>();
    call.whenComplete((response, failure) -> {
      CompletionStage<T> next;
      if (failure == null) {
        try {
          result.complete(onSuccess.apply(response));
        } catch (RuntimeException e) {
          result.completeExceptionally(e);
        }
        return;
      }
      try {
        next = onFailure.apply(Failures.unwrap(failure));
      } catch (RuntimeException e) {
        next = failed(e);
      }
      next.whenComplete((value, error) -> {
        if (error == null) {
          result.complete(value);
        } else {
          result.completeExceptionally(Failures.unwrap(error));
        }
      });
    });
    return result;
  }

  private static <T> CompletionStage<T> failed(Throwable failure) {
    return CompletableFuture.failedFuture(failure);
  }


  /** A ValidationException (control plane) whose message contains {@code text}; "" matches any. */
  private static boolean isValidation(Throwable t, String text) {
    if (!(t instanceof AwsServiceException e) || e.awsErrorDetails() == null) {
      return false;
    }
    String code = e.awsErrorDetails().errorCode();
    String message = e.awsErrorDetails().errorMessage() == null ? "" : e.awsErrorDetails().errorMessage();
    if (text.equals(NOT_FOUND) && message.contains(CONFIG_NOT_FOUND)) {
      return false; // a missing EndpointConfig is a configuration error, not a missing endpoint
    }
    return "ValidationException".equals(code) && message.contains(text);
  }

  /** "ErrorCode (HTTP 400): message" for AWS errors, the exception's own words for the rest. */
  private static String describeError(Throwable t) {
    if (t instanceof AwsServiceException e && e.awsErrorDetails() != null) {
      var details = e.awsErrorDetails();
      return details.errorCode() + " (HTTP " + e.statusCode() + "): " + details.errorMessage();
    }
    if (t instanceof SdkClientException && t.getCause() != null && t.getMessage() == null) {
      return t.getCause().toString();
    }
    return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
  }
}
