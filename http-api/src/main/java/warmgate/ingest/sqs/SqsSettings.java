package warmgate.ingest.sqs;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code warmgate.sqs}: the queues this node consumes and how (docs/configuration.md#sqs-queues-warmgatesqs).
 *
 * @param waitTime the long poll of one {@code ReceiveMessage}, at most SQS's 20 s
 * @param maxMessages per {@code ReceiveMessage}, at most SQS's 10
 * @param retryMin how long a message whose jobs the node refused stays invisible after its first refusal; doubled
 *     with each receive, up to {@code retryMax}; also the consumer's first pause after a refusal
 * @param retryMax the longest such visibility
 * @param backoffMax the longest pause of a consumer between receives while the node refuses or SQS fails
 */
public record SqsSettings(List<Queue> queues, Duration waitTime, int maxMessages, Duration retryMin,
    Duration retryMax, Duration backoffMax) {

  /** SQS's own limit on a message's visibility timeout. */
  static final Duration MAX_VISIBILITY = Duration.ofHours(12);

  /**
   * One queue.
   *
   * @param name in logs and metrics; the last segment of the URL unless configured
   * @param endpointOverride an SQS-compatible server (ElasticMQ); empty for AWS
   * @param accessKeyId with {@code secretAccessKey}: static credentials; empty: the SDK's default chain
   * @param consumers long-poll loops on this node
   * @param visibilityTimeout asked for with every receive; renewed while a batch is still being accepted
   */
  public record Queue(String name, String url, String region, Optional<String> endpointOverride,
      Optional<String> accessKeyId, Optional<String> secretAccessKey, int consumers, Duration visibilityTimeout) {}

  public SqsSettings {
    queues = List.copyOf(queues);
  }

  public static SqsSettings fromConfig(Config warmgate) {
    Config sqs = warmgate.getConfig("sqs");
    Config defaults = sqs.getConfig("queue-defaults");
    Duration waitTime = sqs.getDuration("wait-time");
    if (waitTime.isNegative() || waitTime.compareTo(Duration.ofSeconds(20)) > 0) {
      throw new ConfigException.BadValue("warmgate.sqs.wait-time", "must be between 0s and SQS's 20s");
    }
    int maxMessages = sqs.getInt("max-messages");
    if (maxMessages < 1 || maxMessages > 10) {
      throw new ConfigException.BadValue("warmgate.sqs.max-messages", "must be between 1 and SQS's 10");
    }
    Duration retryMin = sqs.getDuration("retry-min");
    Duration retryMax = sqs.getDuration("retry-max");
    if (retryMin.toSeconds() < 1 || retryMax.compareTo(retryMin) < 0 || retryMax.compareTo(MAX_VISIBILITY) > 0) {
      throw new ConfigException.BadValue("warmgate.sqs.retry-min",
          "retry-min must be at least 1s and retry-max between it and SQS's 12h");
    }
    Duration backoffMax = sqs.getDuration("backoff-max");
    if (backoffMax.compareTo(retryMin) < 0) {
      throw new ConfigException.BadValue("warmgate.sqs.backoff-max", "must be at least retry-min");
    }
    List<Queue> queues = new ArrayList<>();
    Set<String> names = new HashSet<>();
    List<? extends Config> entries = sqs.getConfigList("queues");
    for (int i = 0; i < entries.size(); i++) {
      Config entry = entries.get(i).withFallback(defaults);
      String where = "warmgate.sqs.queues[" + i + "]";
      String url = entry.hasPath("url") ? entry.getString("url") : "";
      if (url.isBlank()) {
        throw new ConfigException.BadValue(where + ".url", "is required: the queue's URL, as GetQueueUrl gives it");
      }
      URI parsed;
      try {
        parsed = URI.create(url);
      } catch (IllegalArgumentException e) {
        throw new ConfigException.BadValue(where + ".url", "is not a URL: " + e.getMessage());
      }
      if (parsed.getScheme() == null || parsed.getHost() == null || parsed.getPath() == null
          || parsed.getPath().replace("/", "").isEmpty()) {
        throw new ConfigException.BadValue(where + ".url", "must be a queue URL such as "
            + "https://sqs.us-east-1.amazonaws.com/123456789012/uploads");
      }
      String name = entry.hasPath("name") && !entry.getString("name").isBlank() ? entry.getString("name")
          : parsed.getPath().substring(parsed.getPath().lastIndexOf('/') + 1);
      if (!names.add(name)) {
        throw new ConfigException.BadValue(where + ".name", "'" + name + "' names two queues; give one a name");
      }
      int consumers = entry.getInt("consumers");
      if (consumers < 1 || consumers > 16) {
        throw new ConfigException.BadValue(where + ".consumers", "must be between 1 and 16");
      }
      Duration visibility = entry.getDuration("visibility-timeout");
      if (visibility.toSeconds() < 2 || visibility.compareTo(MAX_VISIBILITY) > 0) {
        throw new ConfigException.BadValue(where + ".visibility-timeout", "must be between 2s and SQS's 12h");
      }
      Optional<String> keyId = nonEmpty(entry.getString("access-key-id"));
      Optional<String> secret = nonEmpty(entry.getString("secret-access-key"));
      if (keyId.isPresent() != secret.isPresent()) {
        throw new ConfigException.BadValue(where + ".access-key-id",
            "access-key-id and secret-access-key are given together or not at all");
      }
      queues.add(new Queue(name, url, entry.getString("region"), nonEmpty(entry.getString("endpoint-override")),
          keyId, secret, consumers, visibility));
    }
    return new SqsSettings(queues, waitTime, maxMessages, retryMin, retryMax, backoffMax);
  }

  /** How long a message refused {@code receiveCount} times so far stays invisible before it is tried again. */
  Duration retryVisibility(int receiveCount, Duration atLeast) {
    Duration first = atLeast.compareTo(retryMin) > 0 ? atLeast : retryMin;
    int doublings = Math.min(Math.max(receiveCount - 1, 0), 20);
    Duration grown = first.multipliedBy(1L << doublings);
    return grown.compareTo(retryMax) > 0 ? retryMax : grown;
  }

  private static Optional<String> nonEmpty(String s) {
    return s == null || s.isBlank() ? Optional.empty() : Optional.of(s);
  }
}
