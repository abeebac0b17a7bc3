package warmgate.config;

import com.typesafe.config.Config;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import warmgate.Backoff;
import warmgate.InvalidInput;

/**
 * How jobs report their end to a {@code callbackUrl}, read from {@code warmgate.webhooks}.
 *
 * @param secret the HMAC-SHA256 key deliveries are signed with; empty turns callbacks off (a job asking for one
 *     is refused)
 * @param allowedHosts host names a callback may go to; {@code *.example.com} allows sub-domains. Empty: none
 * @param allowHttp also allow plain {@code http} (for local receivers); otherwise {@code https} only
 * @param timeout the longest one delivery may take
 * @param maxAttempts deliveries before a callback is given up (the job's own status is not affected)
 * @param backoffMin first delay between deliveries; doubled per attempt, half of it random
 * @param backoffMax the longest delay between deliveries
 */
public record WebhookSettings(
    String secret,
    List<String> allowedHosts,
    boolean allowHttp,
    Duration timeout,
    int maxAttempts,
    Duration backoffMin,
    Duration backoffMax) {

  public WebhookSettings {
    allowedHosts = allowedHosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("warmgate.webhooks.max-attempts must be at least 1");
    }
    if (backoffMax.compareTo(backoffMin) < 0) {
      throw new IllegalArgumentException("warmgate.webhooks.backoff-max must not be below backoff-min");
    }
  }

  public static WebhookSettings fromConfig(Config warmgate) {
    Config c = warmgate.getConfig("webhooks");
    return new WebhookSettings(
        c.getString("secret"),
        c.getStringList("allowed-hosts"),
        c.getBoolean("allow-http"),
        c.getDuration("timeout"),
        c.getInt("max-attempts"),
        c.getDuration("backoff-min"),
        c.getDuration("backoff-max"));
  }

  public boolean enabled() {
    return !secret.isEmpty();
  }

  /** Delay before delivery {@code attempt + 1}: exponential with equal jitter. */
  public Duration backoff(int attempt, double random) {
    return Backoff.delay(backoffMin, backoffMax, attempt, random);
  }

  /**
   * Checks a job's callback URL before the job is accepted: callbacks configured, an absolute http(s) URL
   * without user info, and a host on the allow-list, so a job cannot make Warmgate call into its own network.
   */
  public void check(String url) {
    if (!enabled()) {
      throw new InvalidInput("callbacks_disabled", "callbackUrl cannot be used: this Warmgate has no webhook secret "
          + "(warmgate.webhooks.secret); poll GET /v1/jobs/{jobId} instead");
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw invalid("callbackUrl is not a valid URL: " + e.getMessage());
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !(allowHttp && scheme.equals("http"))) {
      throw invalid("callbackUrl must be an https URL" + (allowHttp ? " or http" : ""));
    }
    if (uri.getRawUserInfo() != null || uri.getHost() == null || uri.getRawFragment() != null) {
      throw invalid("callbackUrl must be a plain URL with a host and no user info or fragment");
    }
    String host = uri.getHost().toLowerCase(Locale.ROOT);
    if (allowedHosts.stream().noneMatch(allowed -> matches(allowed, host))) {
      throw invalid("callbackUrl host " + host + " is not allowed; allowed: " + allowedHosts
          + " (warmgate.webhooks.allowed-hosts)");
    }
  }

  private static boolean matches(String allowed, String host) {
    return allowed.startsWith("*.") ? host.endsWith(allowed.substring(1)) : allowed.equals(host);
  }

  private static InvalidInput invalid(String message) {
    return new InvalidInput("invalid_callback_url", message);
  }
}
