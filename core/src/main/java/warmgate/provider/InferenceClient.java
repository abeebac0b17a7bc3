package warmgate.provider;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Sends one request to a running endpoint. Fails with {@link InferenceException}, whose kind says whether
 * trying again can help.
 */
public interface InferenceClient {

  CompletionStage<InferenceResponse> invoke(String contentType, byte[] body);

  /** Sends {@code invocation}; providers that can pass the job id along override this. */
  default CompletionStage<InferenceResponse> invoke(Invocation invocation) {
    return invoke(invocation.contentType(), invocation.body());
  }

  /**
   * Sends a request of any size: {@code invocation} says whose it is (its own body is ignored), {@code body} what it
   * is. A provider that streams (the {@code process} provider) sends it as it reads it and hands the answer over
   * unread; the default reads the body into memory and calls {@link #invoke(Invocation)}, for providers whose
   * requests are small by their platform's limit (SageMaker real-time, 6 MB).
   */
  default CompletionStage<StreamedResponse> invokeStreamed(Invocation invocation, RequestBody body) {
    byte[] bytes;
    try (InputStream in = body.open()) {
      bytes = in.readAllBytes();
    } catch (IOException e) {
      return CompletableFuture.failedFuture(new InferenceException(InferenceException.Kind.TRANSIENT,
          "reading the request failed: " + e, e));
    }
    return invoke(new Invocation(invocation.jobId(), invocation.attempt(), invocation.contentType(), bytes))
        .thenApply(StreamedResponse::of);
  }

  /** The model's answer. */
  record InferenceResponse(byte[] body, String contentType) {}
}
