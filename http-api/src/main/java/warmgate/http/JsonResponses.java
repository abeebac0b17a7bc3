package warmgate.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import warmgate.Json;

/** Every response body Warmgate sends is JSON written by {@link Json#mapper()}; errors have one shape. */
public final class JsonResponses {
  private JsonResponses() {}

  public static HttpResponse json(StatusCode status, Object body) {
    try {
      return HttpResponse.create()
          .withStatus(status)
          .withEntity(ContentTypes.APPLICATION_JSON, Json.mapper().writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a response could not be written as JSON", e);
    }
  }

  /** {@code {"error": {"code": "...", "message": "..."}}} */
  public static HttpResponse error(StatusCode status, String code, String message) {
    ObjectNode body = Json.mapper().createObjectNode();
    body.putObject("error").put("code", code).put("message", message);
    return json(status, body);
  }

  /** The code for an error whose status is all that is known: one Pekko answered by itself, before or instead of a
   * route. */
  public static String code(int status) {
    return switch (status) {
      case 400 -> "bad_request";
      case 404 -> "not_found";
      case 405 -> "method_not_allowed";
      case 406 -> "not_acceptable";
      case 408 -> "request_timeout";
      case 413 -> "body_too_large";
      case 414 -> "uri_too_long";
      case 415 -> "unsupported_media_type";
      case 416 -> "range_not_satisfiable";
      case 417 -> "expectation_failed";
      case 431 -> "headers_too_large";
      case 501 -> "not_implemented";
      case 505 -> "http_version_not_supported";
      default -> status >= 500 ? "internal_error" : "bad_request";
    };
  }

  public static HttpResponse notFound(String message) {
    return error(StatusCodes.NOT_FOUND, "not_found", message);
  }
}
