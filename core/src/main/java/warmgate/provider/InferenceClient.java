package warmgate.provider;

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

  /** The model's answer. */
  record InferenceResponse(byte[] body, String contentType) {}
}
