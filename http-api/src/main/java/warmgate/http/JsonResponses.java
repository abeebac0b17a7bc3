package warmgate.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import warmgate.Json;

/** Every response body Warmgate sends is JSON written by {@link Json#mapper()}; errors have one shape. */
final class JsonResponses {
  private JsonResponses() {}

  static HttpResponse json(StatusCode status, Object body) {
    try {
      return HttpResponse.create()
          .withStatus(status)
          .withEntity(ContentTypes.APPLICATION_JSON, Json.mapper().writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a response could not be written as JSON", e);
    }
  }

  /** {@code {"error": {"code": "...", "message": "..."}}} */
  static HttpResponse error(StatusCode status, String code, String message) {
    ObjectNode body = Json.mapper().createObjectNode();
    body.putObject("error").put("code", code).put("message", message);
    return json(status, body);
  }

  static HttpResponse notFound(String message) {
    return error(StatusCodes.NOT_FOUND, "not_found", message);
  }
}
