package warmgate.http;

import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.headers.HttpChallenge;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Rejections;
import org.apache.pekko.http.javadsl.server.Route;
import warmgate.auth.Authenticator;
import warmgate.auth.Principal;

/**
 * Bearer-token authentication as directives, applied by route group: {@link HttpServer} wraps whole
 * resources in {@link #authenticated}, and a route that proves its sender another way (SNS signatures,
 * an EventBridge API key) simply does not use it. A missing or unknown token is a rejection, not an
 * answer, so the other routes are still tried; if none takes the request it becomes a 401 in
 * {@link ApiErrors}.
 */
public final class Authentication extends AllDirectives {
  static final String REALM = "warmgate";
  private static final Pattern BEARER = Pattern.compile("(?i)bearer +(\\S+) *");
  /** RFC 6750: no error code when the request carried no credentials at all. */
  private static final HttpChallenge MISSING = HttpChallenge.create("Bearer", REALM);
  private static final HttpChallenge INVALID = HttpChallenge.create("Bearer", REALM, Map.of("error", "invalid_token"));

  private final Authenticator authenticator;

  public Authentication(Authenticator authenticator) {
    this.authenticator = authenticator;
  }

  /** {@code inner} with the request's principal; rejected as unauthenticated without a valid token. */
  public Route authenticated(Function<Principal, Route> inner) {
    if (!authenticator.enabled()) {
      return inner.apply(Principal.UNAUTHENTICATED);
    }
    return optionalHeaderValueByName("Authorization", header -> {
      if (header.isEmpty()) {
        return reject(Rejections.authenticationCredentialsMissing(MISSING));
      }
      var bearer = BEARER.matcher(header.get());
      Optional<Principal> principal = bearer.matches() ? authenticator.authenticate(bearer.group(1)) : Optional.empty();
      return principal.map(inner).orElseGet(() -> reject(Rejections.authenticationCredentialsRejected(INVALID)));
    });
  }

  /** {@code inner} for an admin; 401 without a valid token, 403 with a token that is not an admin's. */
  public Route admin(String action, Supplier<Route> inner) {
    return authenticated(principal -> {
      principal.requireAdmin(action);
      return inner.get();
    });
  }
}
