package warmgate.provider.sagemaker;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
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
import warmgate.provider.InferenceClient;
import warmgate.provider.InferenceException;
import warmgate.provider.Invocation;
import warmgate.provider.RequestBody;
import warmgate.provider.StreamedResponse;

/**
 * Calls a SageMaker real-time endpoint (InvokeEndpoint), or one of its inference components, within SageMaker's
 * real-time limits: requests over {@link #MAX_REQUEST_BYTES} are refused before they are sent, and a model that runs
 * past SageMaker's 60 s or answers more than 6 MB is retried at most once.
 */
public final class SageMakerRealtime implements InferenceClient {

  /** SageMaker's real-time payload limit, for the request and for the response: 6 MB. */
  public static final int MAX_REQUEST_BYTES = 6_291_456;

  /** Invocations a model that timed out or answered too much may use in a run: the first and one more. */
  static final int SLOW_OR_TOO_LARGE_ATTEMPTS = 2;

  /** What SageMaker answers, as a ValidationError, while an inference component has no copy to serve. */
  static final String NO_CAPACITY = "has no capacity to process this request";

  /**
   * Errors that say the credentials or their permissions are wrong: configuration, which no retry mends. Expired
   * tokens are not among them, since the SDK's credential chain refreshes them.
   */
  private static final Set<String> CREDENTIALS_REFUSED = Set.of("AccessDenied", "UnrecognizedClient",
      "InvalidSignature", "IncompleteSignature", "MissingAuthenticationToken", "InvalidClientTokenId");

  private final String endpointName;
  private final String componentName;
  private final Duration invokeTimeout;
  private final SageMakerRuntimeAsyncClient runtime;

  /** @param componentName the inference component to invoke, or null for the endpoint itself */
  SageMakerRealtime(String endpointName, String componentName, Duration invokeTimeout,
      SageMakerRuntimeAsyncClient runtime) {
    this.endpointName = endpointName;
    this.componentName = componentName;
    this.invokeTimeout = invokeTimeout;
    this.runtime = runtime;
  }

  @Override
  public CompletionStage<InferenceResponse> invoke(String contentType, byte[] body) {
    return send(null, 0, contentType, body);
  }

  /** Sends the job id as {@code InferenceId} and, with the attempt, as custom attributes the model sees. */
  @Override
  public CompletionStage<InferenceResponse> invoke(Invocation invocation) {
    return send(invocation.jobId(), invocation.attempt(), invocation.contentType(), invocation.body());
  }

  /**
   * Refuses a request over the limit from its length, before reading it; one within it (6 MB at most) is read into
   * memory, since {@code InvokeEndpoint} takes its body whole.
   */
  @Override
  public CompletionStage<StreamedResponse> invokeStreamed(Invocation invocation, RequestBody body) {
    if (body.length() > MAX_REQUEST_BYTES) {
      return SageMakerCalls.failed(tooLarge(body.length()));
    }
    return InferenceClient.super.invokeStreamed(invocation, body);
  }

  private InferenceException tooLarge(long length) {
    return InferenceException.permanent(where() + "the request is " + length
        + " bytes, over SageMaker's real-time payload limit of " + MAX_REQUEST_BYTES + " bytes (6 MB); "
        + "provider = sagemaker-async takes requests up to 1 GB");
  }

  private CompletionStage<InferenceResponse> send(String jobId, int attempt, String contentType, byte[] body) {
    if (body.length > MAX_REQUEST_BYTES) {
      return SageMakerCalls.failed(tooLarge(body.length));
    }
    var request = InvokeEndpointRequest.builder()
        .endpointName(endpointName)
        .inferenceComponentName(componentName)
        .contentType(contentType)
        .body(SdkBytes.fromByteArray(body))
        .overrideConfiguration(o -> o.apiCallTimeout(invokeTimeout));
    if (jobId != null) {
      request.inferenceId(jobId).customAttributes(customAttributes(jobId, attempt));
    }
    return SageMakerCalls.settle(runtime.invokeEndpoint(request.build()), SageMakerRealtime::toResponse,
        failure -> SageMakerCalls.failed(classify(failure)));
  }

  /**
   * {@code warmgate-job-id=<id>;warmgate-attempt=<n>}, as SageMaker forwards to the model: at most 1,024 visible
   * US-ASCII characters, so anything else in the id is replaced and a longer value cut.
   */
  static String customAttributes(String jobId, int attempt) {
    String attributes = "warmgate-job-id=" + jobId.replaceAll("[^\\x21-\\x7e]|;", "_") + ";warmgate-attempt="
        + attempt;
    return attributes.length() <= 1024 ? attributes : attributes.substring(0, 1024);
  }

  private static InferenceResponse toResponse(InvokeEndpointResponse r) {
    String contentType = r.contentType() == null ? "application/octet-stream" : r.contentType();
    return new InferenceResponse(r.body().asByteArrayUnsafe(), contentType);
  }

  private String where() {
    return "SageMaker endpoint " + endpointName + (componentName == null ? "" : " (inference component "
        + componentName + ")") + ": ";
  }

  /**
   * Only errors that say the input or the configuration is at fault are permanent: the model rejecting the input
   * (a 4xx of its own), SageMaker refusing the request as invalid, refused credentials. A model that ran past
   * SageMaker's 60 s or answered past its 6 MB is tried once more at most; a component without copies yet is not
   * ready. Everything else can pass (throttling, a restarting model, an endpoint not there yet), and the job's retry
   * budget bounds it.
   */
  InferenceException classify(Throwable failure) {
    Throwable t = Failures.unwrap(failure);
    String where = where();
    if (t instanceof ApiCallTimeoutException) {
      return new InferenceException(InferenceException.Kind.TRANSIENT,
          where + "no answer within invoke-timeout (" + invokeTimeout.toMillis() + " ms)", t);
    }
    if (t instanceof ModelErrorException e) {
      Integer original = e.originalStatusCode();
      String message = where + "the model answered " + (original == null ? "an error" : original)
          + (e.originalMessage() == null ? "" : ": " + e.originalMessage())
          + (e.logStreamArn() == null ? "" : " (logs: " + e.logStreamArn() + ")");
      if (original != null && original == 0) {
        // SageMaker's own "invocation timed out": the container took longer than the 60 s real-time limit.
        return InferenceException.transientAtMost(SLOW_OR_TOO_LARGE_ATTEMPTS, where + "the model did not answer "
            + "within SageMaker's 60 s real-time limit (ModelError, original status 0"
            + (e.originalMessage() == null ? "" : ": " + e.originalMessage()) + "); tried at most "
            + SLOW_OR_TOO_LARGE_ATTEMPTS + " times; a model this slow needs provider = sagemaker-async", t);
      }
      boolean inputRejected = original != null && original >= 400 && original < 500 && original != 408
          && original != 429;
      return new InferenceException(inputRejected ? InferenceException.Kind.PERMANENT
          : InferenceException.Kind.TRANSIENT, message, t);
    }
    if (t instanceof ValidationErrorException) {
      String message = SageMakerCalls.errorMessage(t);
      if (message.contains(NO_CAPACITY)) {
        return InferenceException.notReady(where + "no copy of the inference component serves yet: "
            + SageMakerCalls.describeError(t), t);
      }
      // "Endpoint X of account Y not found.": not created yet, or deleted under us; the lifecycle brings it back.
      boolean endpointMissing = message.contains("not found");
      return new InferenceException(
          endpointMissing ? InferenceException.Kind.TRANSIENT : InferenceException.Kind.PERMANENT, where
              + SageMakerCalls.describeError(t), t);
    }
    if (credentialsRefused(t)) {
      return InferenceException.permanent(where + "SageMaker refused Warmgate's credentials or permissions, which "
          + "is configuration (the IAM policy, the keys), not a passing fault: " + SageMakerCalls.describeError(t));
    }
    if (t instanceof ModelNotReadyException || t instanceof ServiceUnavailableException
        || t instanceof InternalFailureException || t instanceof InternalDependencyException) {
      return new InferenceException(InferenceException.Kind.TRANSIENT, where + SageMakerCalls.describeError(t), t);
    }
    if (t instanceof AwsServiceException e && e.statusCode() == 413) {
      return new InferenceException(InferenceException.Kind.PERMANENT, where + SageMakerCalls.describeError(t), t);
    }
    if (closedMidAnswer(t)) {
      return InferenceException.transientAtMost(SLOW_OR_TOO_LARGE_ATTEMPTS, where + "the connection closed before "
          + "the answer was complete, which is how SageMaker ends a response over its 6 MB real-time limit; tried "
          + "at most " + SLOW_OR_TOO_LARGE_ATTEMPTS + " times; a model with larger answers needs provider = "
          + "sagemaker-async (" + SageMakerCalls.describeError(t) + ")", t);
    }
    // Throttling (429, ThrottlingException), any other 5xx, expired credentials, and SdkClientException: connection
    // failures and unreadable answers.
    return new InferenceException(InferenceException.Kind.TRANSIENT, where + SageMakerCalls.describeError(t), t);
  }

  static boolean credentialsRefused(Throwable t) {
    String code = SageMakerCalls.errorCode(t);
    if (code == null) {
      return false;
    }
    String bare = code.endsWith("Exception") ? code.substring(0, code.length() - "Exception".length()) : code;
    return CREDENTIALS_REFUSED.contains(bare);
  }

  /**
   * An answer cut off after it began: the SDK's "connection was closed" or a closed channel, as opposed to a
   * connection that could not be made at all (refused, unreachable), which stays an ordinary transient failure.
   */
  private static boolean closedMidAnswer(Throwable t) {
    if (!(t instanceof SdkClientException)) {
      return false;
    }
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof java.net.ConnectException) {
        return false;
      }
    }
    for (Throwable c = t; c != null; c = c.getCause()) {
      String message = c.getMessage() == null ? "" : c.getMessage().toLowerCase(Locale.ROOT);
      if (c instanceof ClosedChannelException || (c instanceof IOException || c instanceof SdkClientException)
          && (message.contains("connection was closed") || message.contains("channel was closed")
              || message.contains("closed before") || message.contains("premature"))) {
        return true;
      }
    }
    return false;
  }
}
