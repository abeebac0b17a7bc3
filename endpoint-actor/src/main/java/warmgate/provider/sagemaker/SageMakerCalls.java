package warmgate.provider.sagemaker;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import warmgate.Failures;

/** What the SageMaker calls here share: their stages, and AWS's errors in words. */
final class SageMakerCalls {
  private SageMakerCalls() {}

  /**
   * Completes with {@code onSuccess} of the SDK's answer or the stage {@code onFailure} makes of its
   * failure, unwrapped. Callers get the failure itself, not a {@link CompletionException} around it.
   */
  static <R, T> CompletionStage<T> settle(
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

  static <T> CompletionStage<T> failed(Throwable failure) {
    return CompletableFuture.failedFuture(failure);
  }

  /** The AWS error code of {@code t}, or null when it is not an AWS error. */
  static String errorCode(Throwable t) {
    return t instanceof AwsServiceException e && e.awsErrorDetails() != null ? e.awsErrorDetails().errorCode() : null;
  }

  /** The AWS error message of {@code t}, or "" when it has none. */
  static String errorMessage(Throwable t) {
    if (t instanceof AwsServiceException e && e.awsErrorDetails() != null
        && e.awsErrorDetails().errorMessage() != null) {
      return e.awsErrorDetails().errorMessage();
    }
    return "";
  }

  /** A control-plane ValidationException whose message contains {@code text}; "" matches any. */
  static boolean isValidation(Throwable t, String text) {
    return "ValidationException".equals(errorCode(t)) && errorMessage(t).contains(text);
  }

  /** "ErrorCode (HTTP 400): message" for AWS errors, the exception's own words for the rest. */
  static String describeError(Throwable t) {
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
