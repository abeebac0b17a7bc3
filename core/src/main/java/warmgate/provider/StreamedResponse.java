package warmgate.provider;

import java.io.ByteArrayInputStream;
import java.io.InputStream;

/**
 * A model's answer still on its way: read it once, and close it.
 *
 * @param length its size if the model said ({@code Content-Length}), or -1
 */
public record StreamedResponse(InputStream body, long length, String contentType) {

  /** An answer that arrived whole. */
  public static StreamedResponse of(InferenceClient.InferenceResponse response) {
    return new StreamedResponse(new ByteArrayInputStream(response.body()), response.body().length,
        response.contentType());
  }
}
