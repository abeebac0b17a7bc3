package warmgate.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;

import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.model.headers.WWWAuthenticate;
import org.apache.pekko.http.javadsl.server.AuthenticationFailedRejection;
import org.apache.pekko.http.javadsl.server.AuthorizationFailedRejection;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.MalformedHeaderRejection;
import org.apache.pekko.http.javadsl.server.MalformedQueryParamRejection;
import org.apache.pekko.http.javadsl.server.MalformedRequestContentRejection;
import org.apache.pekko.http.javadsl.server.MethodRejection;
import org.apache.pekko.http.javadsl.server.MissingHeaderRejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.UnsupportedRequestContentTypeRejection;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.Failures;
import warmgate.InvalidInput;
import warmgate.auth.Forbidden;
import warmgate.gateway.EndpointBusy;
import warmgate.gateway.Refused;
import warmgate.gateway.TryLater;

/**
 * Maps what can go wrong in a request to a status and a JSON error, in one place: the caller's mistakes to
 * 4xx (401 for a missing or unknown token, 403 for a token that may not do this), a journal that did not
 * answer in time to 503 (the caller should retry; nothing was lost), and anything else to 500, logged.
 */
public final class ApiErrors {
  private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);
  public static final long RETRY_AFTER_SECONDS = 2;
  private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");

  private ApiErrors() {}

  public static ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder()
        .match(EntityStreamSizeException.class, e -> complete(tooLarge(e)))
        .matchAny(e -> {
          // Thrown directly by a route, or carried by a failed future: the same answer either way.
          Throwable cause = Failures.unwrap(e);
          if (cause instanceof TimeoutException) {
            return complete(unavailable("the journal did not confirm in time; nothing is lost, please retry"));
          }
          if (cause instanceof EndpointBusy busy) {
            return complete(busy(StatusCodes.SERVICE_UNAVAILABLE, busy));
          }
          if (cause instanceof TryLater later) {
            return complete(unavailable(later.getMessage()));
          }
          if (cause instanceof Refused refused) {
            return complete(JsonResponses.error(StatusCodes.CONFLICT, "conflict", refused.getMessage()));
          }
          if (cause instanceof Forbidden forbidden) {
            return complete(JsonResponses.error(StatusCodes.FORBIDDEN, "forbidden", forbidden.getMessage()));
          }
          if (cause instanceof InvalidInput invalid) {
            return complete(JsonResponses.error(StatusCodes.BAD_REQUEST, invalid.code(), invalid.getMessage()));
          }
          log.error("Request failed", e);
          return complete(JsonResponses.error(StatusCodes.INTERNAL_SERVER_ERROR, "internal_error",
              "the request failed inside Warmgate; the log has the details"));
        })
        .build();
  }

  private static HttpResponse tooLarge(EntityStreamSizeException e) {
    return JsonResponses.error(StatusCodes.PAYLOAD_TOO_LARGE, "body_too_large", "the body is larger than the limit of "
        + e.limit() + " bytes");
  }

  /**
   * A full endpoint queue or an owner's full quota: 429 for a client's job, 503 for a notification sender that should
   * deliver again.
   */
  public static HttpResponse busy(org.apache.pekko.http.javadsl.model.StatusCode status, EndpointBusy busy) {
    return JsonResponses.error(status, busy.code(),
        busy.getMessage()).addHeader(RetryAfter.create(busy.retryAfterSeconds()));
  }

  public static HttpResponse unavailable(String message) {
    return JsonResponses.error(StatusCodes.SERVICE_UNAVAILABLE, "unavailable", message)
        .addHeader(RetryAfter.create(RETRY_AFTER_SECONDS));
  }

  private static HttpResponse unauthorized(AuthenticationFailedRejection rejection) {
    String message = rejection.cause() instanceof AuthenticationFailedRejection.CredentialsMissing
        ? "send a token: Authorization: Bearer <token>"
        : "the token is malformed or unknown";
    return JsonResponses.error(StatusCodes.UNAUTHORIZED, "unauthorized", message)
        .addHeader(WWWAuthenticate.create(rejection.challenge()));
  }

  public static RejectionHandler rejectionHandler() {
    return RejectionHandler.newBuilder()
        .handle(MalformedRequestContentRejection.class,
            r -> complete(r.getCause() instanceof EntityStreamSizeException tooLarge
            ? tooLarge(tooLarge)
            : JsonResponses.error(StatusCodes.BAD_REQUEST, "invalid_body", r.message())))
        .handle(MalformedHeaderRejection.class, r -> complete(JsonResponses.error(StatusCodes.BAD_REQUEST,
            "invalid_header",
            "header " + r.headerName() + ": " + printable(r.errorMsg()))))
        .handle(MalformedQueryParamRejection.class, r -> complete(JsonResponses.error(StatusCodes.BAD_REQUEST,
            "invalid_query",
            "query parameter " + r.parameterName() + ": " + printable(r.errorMsg()))))
        .handle(MissingHeaderRejection.class, r -> complete(JsonResponses.error(StatusCodes.BAD_REQUEST,
            "missing_header",
            "header " + r.headerName() + " is required")))
        .handle(UnsupportedRequestContentTypeRejection.class,
            r -> complete(JsonResponses.error(StatusCodes.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type", "send the body as application/json")))
        .handle(AuthorizationFailedRejection.class, r -> complete(JsonResponses.error(StatusCodes.FORBIDDEN,
            "forbidden", "not allowed")))
        .handleAll(MethodRejection.class, rejections -> complete(JsonResponses.error(StatusCodes.METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "use " + StreamSupport.stream(rejections.spliterator(), false).map(m -> m.supported().name()).distinct()
                .collect(Collectors.joining(" or ")))))
        // After the others: a rejection from a route that needs no token (SNS, EventBridge) says more.
        .handle(AuthenticationFailedRejection.class, r -> complete(unauthorized(r)))
        .handleNotFound(complete(JsonResponses.notFound("no such resource")))
        .build()
        .withFallback(RejectionHandler.defaultHandler())
        .mapRejectionResponse(response ->
            response.entity().getContentType().equals(org.apache.pekko.http.javadsl.model.ContentTypes.APPLICATION_JSON)
            ? response
            : JsonResponses.error(response.status(), JsonResponses.code(response.status().intValue()),
                defaultMessage(response)));
  }

  /** A rejection's text can quote the request; a terminal escape or a line break from it stays out of the answer. */
  private static String printable(String text) {
    return CONTROL.matcher(text).replaceAll(" ");
  }

  /** The default handler's sentence ("Request is missing required query parameter 'limit'"), else the reason phrase. */
  private static String defaultMessage(HttpResponse response) {
    if (response.entity() instanceof HttpEntity.Strict strict && !strict.getData().isEmpty()) {
      return printable(strict.getData().utf8String());
    }
    return response.status().reason();
  }
}
