package warmgate.provider;

import java.util.concurrent.CompletionStage;

/**
 * Sends one request to a running endpoint. Fails with {@link InferenceException}, whose kind says whether
 * trying again can help.
 */
public interface InferenceClient {

  CompletionStage<InferenceResponse> invoke(String contentType, byte[] body);

  /** The model's answer. */
  record InferenceResponse(byte[] body, String contentType) {}
}
