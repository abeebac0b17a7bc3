package warmgate.ingest.sns;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether SNS really sent a message, before anything acts on it. The checks that need nothing
 * from outside come first, so a forged message costs no outbound request: the signature version, the
 * topic allow-list, the signing certificate URL (SNS's own host for the topic's region), the timestamp
 * window. Then the certificate is fetched (or taken from the cache), checked, and the signature verified.
 */
public final class SnsVerifier {
  private static final Logger log = LoggerFactory.getLogger(SnsVerifier.class);

  /**
   * @param topicArns the topics whose messages are accepted; empty: none
   * @param maxMessageAge how old a message's Timestamp may be; SNS redelivers with the original Timestamp
   *     for at most an hour, so this should exceed an hour
   * @param maxClockSkew how far in the future a Timestamp may be
   */
  public record Settings(Set<String> topicArns, Duration maxMessageAge, Duration maxClockSkew) {
    public Settings {
      topicArns = Set.copyOf(topicArns);
    }
  }

  /** A message SNS sent, from an allowed topic. */
  public record Verified(SnsMessage message, TopicArn topic) {}

  private final Settings settings;
  private final SigningCertificates certificates;
  private final Clock clock;

  public SnsVerifier(Settings settings, SigningCertificates certificates, Clock clock) {
    this.settings = settings;
    this.certificates = certificates;
    this.clock = clock;
    if (settings.topicArns().isEmpty()) {
      log.warn("No SNS topic is allowed, so POST /v1/notifications/sns refuses every message: list the topics in "
          + "warmgate.sns.topic-arns (or WARMGATE_SNS_TOPIC_ARNS, comma-separated)");
    }
  }

  /**
   * Completes with the verified message, or fails with {@link SnsRefused} (not believed: 403),
   * {@link SnsUnavailable} (the certificate could not be had: 5xx, SNS retries) or
   * {@link warmgate.InvalidInput} (a malformed TopicArn: 400).
   */
  public CompletionStage<Verified> verify(SnsMessage message) {
    TopicArn topic;
    URI certificateUrl;
    try {
      SnsSignature.algorithm(message.signatureVersion());
      topic = TopicArn.parse(message.topicArn());
      allowed(topic);
      certificateUrl = AwsSnsUrls.signingCertificate(message.signingCertUrl(), topic);
      recent(message.instant());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return certificates.get(certificateUrl).thenApply(certificate -> {
      SnsSignature.verify(message, certificate);
      return new Verified(message, topic);
    });
  }

  private void allowed(TopicArn topic) {
    if (settings.topicArns().isEmpty()) {
      log.warn("Refused an SNS message from {}: no SNS topic is allowed; list it in warmgate.sns.topic-arns "
          + "(WARMGATE_SNS_TOPIC_ARNS) to accept it", topic.arn());
      throw new SnsRefused("topic_not_allowed",
          "no SNS topic is allowed; the operator lists accepted topics in warmgate.sns.topic-arns");
    }
    if (!settings.topicArns().contains(topic.arn())) {
      log.warn("Refused an SNS message from {}: not in warmgate.sns.topic-arns {}", topic.arn(), settings.topicArns());
      throw new SnsRefused("topic_not_allowed", "topic " + topic.arn() + " is not in warmgate.sns.topic-arns");
    }
  }

  private void recent(Instant timestamp) {
    Instant now = clock.instant();
    if (timestamp.isAfter(now.plus(settings.maxClockSkew()))) {
      throw new SnsRefused("stale_message", "Timestamp " + timestamp + " is in the future (more than "
          + settings.maxClockSkew() + " ahead of this node's clock)");
    }
    if (timestamp.isBefore(now.minus(settings.maxMessageAge()))) {
      throw new SnsRefused("stale_message", "Timestamp " + timestamp + " is older than " + settings.maxMessageAge()
          + " (warmgate.sns.max-message-age); a replayed or long-delayed message is not accepted");
    }
  }
}
