package warmgate.request;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.Base64;
import java.util.concurrent.CompletionStage;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import warmgate.config.WebhookSettings;

/**
 * Webhook deliveries over HTTP, signed as the Standard Webhooks specification describes: the headers
 * {@code webhook-id}, {@code webhook-timestamp} (Unix seconds) and {@code webhook-signature: v1,<base64>}, where
 * the signature is HMAC-SHA256 over {@code id.timestamp.body} with the configured secret. A receiver checks the
 * signature and refuses old timestamps, which stops forged and replayed calls.
 */
public final class HttpWebhooks implements Webhooks {
  private final HttpClient http;
  private final WebhookSettings settings;
  private final Clock clock;

  public HttpWebhooks(WebhookSettings settings, Clock clock) {
    this.settings = settings;
    this.clock = clock;
    // Redirects are not followed: the allow-list was checked for the URL the job gave, not where it points next.
    this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(settings.timeout())
        .build();
  }

  @Override
  public CompletionStage<Integer> send(String url, String webhookId, byte[] body) {
    String timestamp = Long.toString(clock.instant().getEpochSecond());
    HttpRequest request = HttpRequest.newBuilder(URI.create(url))
        .timeout(settings.timeout())
        .header("Content-Type", "application/json")
        .header("User-Agent", "warmgate-webhooks")
        .header("webhook-id", webhookId)
        .header("webhook-timestamp", timestamp)
        .header("webhook-signature", "v1," + sign(settings.secret(), webhookId, timestamp, body))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).thenApply(HttpResponse::statusCode);
  }

  /** Base64 HMAC-SHA256 of {@code id.timestamp.body}; public so receivers' tests and docs can check it. */
  public static String sign(String secret, String webhookId, String timestamp, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update((webhookId + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(mac.doFinal(body));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
