package warmgate.http;

import java.util.regex.Pattern;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ParserSettings;
import org.apache.pekko.http.scaladsl.settings.ParserSettings$ErrorLoggingVerbosity$Full$;
import org.apache.pekko.http.scaladsl.settings.ParserSettings$ErrorLoggingVerbosity$Off$;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * The answer to a request too malformed for any route to see ({@code pekko.http.server.parsing.error-handler}):
 * the status Pekko chose, in the edge's JSON error shape. Pekko creates one per connection with the no-arg
 * constructor.
 */
public final class ParsingErrors extends ParsingErrorHandler {
  private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    ParserSettings limits = settings.parserSettings();
    var verbosity = limits.errorLoggingVerbosity();
    if (verbosity != ParserSettings$ErrorLoggingVerbosity$Off$.MODULE$) {
      String text = verbosity == ParserSettings$ErrorLoggingVerbosity$Full$.MODULE$ ? info.formatPretty()
          : info.summary();
      // The detail quotes the request as it came; a terminal escape or a line break from it stays out of the log.
      log.warning("Illegal request, responding with status '{}': {}", status, CONTROL.matcher(text).replaceAll(" "));
    }
    // Pekko's own text quotes the request (a header name, part of the request line); the caller wrote that, so
    // the answer says which rule was broken and leaves the bytes to the log.
    return JsonResponses.error(status, JsonResponses.code(status.intValue()), message(status.intValue(), limits));
  }

  private static String message(int status, ParserSettings limits) {
    return switch (status) {
      case 400 -> "the request is not valid HTTP/1.1: a malformed request line, request-target or header, an "
          + "unsupported"
          + " Transfer-Encoding, or more than " + limits.maxHeaderCount() + " headers";
      case 413 -> "the body is larger than the limit of " + limits.maxContentLength() + " bytes";
      case 414 -> "the URI is longer than the limit of " + limits.maxUriLength() + " characters";
      case 431 -> "a header is too large: names of at most " + limits.maxHeaderNameLength()
          + " characters, values of at most "
          + limits.maxHeaderValueLength() + " characters";
      case 501 -> "the request's method is not one the server implements";
      case 505 -> "the request line must end with HTTP/1.1 (or HTTP/1.0)";
      default -> "the request could not be read as HTTP";
    };
  }
}
