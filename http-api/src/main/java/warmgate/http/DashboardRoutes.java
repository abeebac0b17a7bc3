package warmgate.http;

import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The dashboard: one static page and its script, shipped in the jar. They hold no data and need no token; the
 * page asks the API with the token the user types, so it sees exactly what that token may see.
 */
public final class DashboardRoutes extends AllDirectives {
  private static final String ROOT = "warmgate/dashboard/";

  // The page loads nothing from elsewhere and runs no inline script, so an injected string cannot run as code.
  private static final List<HttpHeader> HEADERS = List.of(
      RawHeader.create("Content-Security-Policy",
          "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
              + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
      RawHeader.create("X-Content-Type-Options", "nosniff"),
      RawHeader.create("Referrer-Policy", "no-referrer"),
      RawHeader.create("Cache-Control", "no-cache"));

  /** Paths first, then the method: any other path is left alone, so the API's own rejections (401, 405) stand. */
  public Route route() {
    return concat(
        pathSingleSlash(() -> page(ROOT + "index.html")),
        path("index.html", () -> page(ROOT + "index.html")),
        pathPrefix("dashboard", () -> concat(
            path("app.js", () -> page(ROOT + "app.js")),
            path("app.css", () -> page(ROOT + "app.css")))));
  }

  private Route page(String resource) {
    return get(() -> respondWithHeaders(HEADERS, () -> getFromResource(resource)));
  }
}
