package warmgate.provider.sagemaker;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import warmgate.config.EndpointSettings;
import warmgate.job.ObjectRef;

/**
 * The endpoint's SageMaker block, read and checked for the three kinds ({@code sagemaker}, {@code sagemaker-async},
 * {@code sagemaker-component}). Every error names the endpoint and the key at fault.
 */
final class SageMakerSettings {
  static final String DEFAULT_REGION = "us-east-1";

  /** AWS's bounds on InvokeEndpointAsync's InvocationTimeoutSeconds and RequestTTLSeconds. */
  static final Duration MIN_INVOCATION_TIMEOUT = Duration.ofSeconds(1);
  static final Duration MAX_INVOCATION_TIMEOUT = Duration.ofSeconds(3600);
  static final Duration MIN_REQUEST_TTL = Duration.ofSeconds(60);
  static final Duration MAX_REQUEST_TTL = Duration.ofHours(6);

  private SageMakerSettings() {}

  /**
   * A real-time or asynchronous endpoint's block.
   *
   * @param endpointConfigNames the EndpointConfigs to create the endpoint from, in the order to try them when one
   *     fails for capacity; never empty
   */
  record Block(String endpointName, List<String> endpointConfigNames, SageMakerClients.Connection connection) {
    Block {
      endpointConfigNames = List.copyOf(endpointConfigNames);
    }
  }

  /**
   * An asynchronous endpoint's {@code async} block.
   *
   * @param staging where requests are staged: a bucket and a key prefix ("" or ending in "/")
   * @param outputPath the EndpointConfig's S3OutputPath, as a prefix
   * @param failurePath its S3FailurePath, or null
   */
  record Async(ObjectRef staging, boolean inputsByReference, Duration invocationTimeout, Duration requestTtl,
      ObjectRef outputPath, ObjectRef failurePath) {}

  /** An inference component's block. */
  record Component(String endpointName, String componentName, int copies, SageMakerClients.Connection connection) {}

  /** "endpoint NAME: BLOCK." to put before a key in errors. */
  static String where(EndpointSettings settings) {
    return "endpoint " + settings.name() + ": " + settings.provider() + ".";
  }

  static Block block(EndpointSettings settings) {
    Config c = settings.providerConfig();
    String where = where(settings);
    String single = optional(c, "endpoint-config-name");
    List<String> many = optionalList(c, "endpoint-config-names", where);
    if (single != null && !many.isEmpty()) {
      throw new IllegalArgumentException(where + "endpoint-config-name and " + where
          + "endpoint-config-names are both set; set one: a single EndpointConfig or the list to try in order");
    }
    if (single == null && many.isEmpty()) {
      throw new IllegalArgumentException(where + "endpoint-config-name is required (the pre-created EndpointConfig "
          + "to start from), or endpoint-config-names (several, tried in order when one has no capacity)");
    }
    String name = optional(c, "endpoint-name");
    return new Block(name == null ? settings.name() : name, single != null ? List.of(single) : many,
        connection(c, where));
  }

  static Async async(EndpointSettings settings) {
    Config root = settings.providerConfig();
    String where = where(settings) + "async.";
    if (!root.hasPath("async")) {
      throw new IllegalArgumentException(where + "staging and " + where + "output-path are required: an "
          + "asynchronous endpoint reads its requests from S3 and writes its answers there");
    }
    Config c;
    try {
      c = root.getConfig("async");
    } catch (ConfigException e) {
      throw new IllegalArgumentException(where(settings) + "async must be a block: " + e.getMessage(), e);
    }
    String staging = optional(c, "staging");
    if (staging == null) {
      throw new IllegalArgumentException(where + "staging is required (s3://bucket/prefix/: where Warmgate stages "
          + "each job's request for SageMaker to read)");
    }
    String output = optional(c, "output-path");
    if (output == null) {
      throw new IllegalArgumentException(where + "output-path is required (the S3OutputPath of the EndpointConfig's "
          + "AsyncInferenceConfig)");
    }
    String failure = optional(c, "failure-path");
    String input = optional(c, "input");
    boolean byReference;
    if (input == null || input.equals("body")) {
      byReference = false;
    } else if (input.equals("s3-uris")) {
      byReference = true;
    } else {
      throw new IllegalArgumentException(where + "input '" + input + "' is not one of body, s3-uris");
    }
    Duration timeout = duration(c, "invocation-timeout", Duration.ofMinutes(15), where);
    within(where + "invocation-timeout", timeout, MIN_INVOCATION_TIMEOUT, MAX_INVOCATION_TIMEOUT);
    Duration ttl = duration(c, "request-ttl", Duration.ofHours(6), where);
    within(where + "request-ttl", ttl, MIN_REQUEST_TTL, MAX_REQUEST_TTL);
    return new Async(prefix(where + "staging", staging), byReference, timeout, ttl,
        prefix(where + "output-path", output), failure == null ? null : prefix(where + "failure-path", failure));
  }

  static Component component(EndpointSettings settings) {
    Config c = settings.providerConfig();
    String where = where(settings);
    String endpointName = optional(c, "endpoint-name");
    if (endpointName == null) {
      throw new IllegalArgumentException(where + "endpoint-name is required (the SageMaker endpoint that hosts the "
          + "inference component; it is kept running)");
    }
    String component = optional(c, "inference-component-name");
    if (component == null) {
      throw new IllegalArgumentException(where + "inference-component-name is required (the inference component "
          + "whose copies are scaled between 0 and copies)");
    }
    int copies;
    try {
      copies = c.hasPath("copies") ? c.getInt("copies") : 1;
    } catch (ConfigException e) {
      throw new IllegalArgumentException(where + "copies must be a whole number: " + e.getMessage(), e);
    }
    if (copies < 1) {
      throw new IllegalArgumentException(where + "copies must be at least 1 (stopping scales to 0 by itself): "
          + copies);
    }
    return new Component(endpointName, component, copies, connection(c, where));
  }

  static SageMakerClients.Connection connection(Config c, String where) {
    String region = optional(c, "region");
    String override = optional(c, "endpoint-override");
    URI overrideUri = null;
    if (override != null) {
      try {
        overrideUri = URI.create(override);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + "endpoint-override '" + override + "' is not a URL", e);
      }
      if (overrideUri.getScheme() == null || overrideUri.getHost() == null) {
        throw new IllegalArgumentException(where + "endpoint-override '" + override + "' needs a scheme and a host");
      }
    }
    try {
      return new SageMakerClients.Connection(region == null ? DEFAULT_REGION : region, overrideUri,
          optional(c, "access-key-id"), optional(c, "secret-access-key"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + e.getMessage(), e);
    }
  }

  static String optional(Config c, String key) {
    if (!c.hasPath(key)) {
      return null;
    }
    String value = c.getString(key).trim();
    return value.isEmpty() ? null : value;
  }

  private static List<String> optionalList(Config c, String key, String where) {
    if (!c.hasPath(key)) {
      return List.of();
    }
    List<String> raw;
    try {
      raw = c.getStringList(key);
    } catch (ConfigException e) {
      throw new IllegalArgumentException(where + key + " must be a list of EndpointConfig names: " + e.getMessage(), e);
    }
    List<String> names = new ArrayList<>();
    for (String name : raw) {
      if (name.isBlank()) {
        throw new IllegalArgumentException(where + key + " has an empty name: " + raw);
      }
      names.add(name.trim());
    }
    if (new LinkedHashSet<>(names).size() != names.size()) {
      throw new IllegalArgumentException(where + key + " names an EndpointConfig twice: " + raw);
    }
    return names;
  }

  private static Duration duration(Config c, String key, Duration fallback, String where) {
    try {
      return c.hasPath(key) ? c.getDuration(key) : fallback;
    } catch (ConfigException e) {
      throw new IllegalArgumentException(where + key + " must be a duration (e.g. 15m): " + e.getMessage(), e);
    }
  }

  private static void within(String key, Duration value, Duration min, Duration max) {
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0 || value.toMillis() % 1000 != 0) {
      throw new IllegalArgumentException(key + " " + value.toSeconds() + " s is not a whole number of seconds from "
          + min.toSeconds() + " to " + max.toSeconds() + " s, as SageMaker allows");
    }
  }

  /** {@code s3://bucket} or {@code s3://bucket/prefix}: the bucket, and the prefix ending in "/" (or ""). */
  static ObjectRef prefix(String key, String uri) {
    if (!uri.startsWith("s3://")) {
      throw new IllegalArgumentException(key + " '" + uri + "' is not an s3://bucket/prefix/ URI");
    }
    String rest = uri.substring("s3://".length());
    int slash = rest.indexOf('/');
    String bucket = slash < 0 ? rest : rest.substring(0, slash);
    String prefix = slash < 0 ? "" : rest.substring(slash + 1);
    if (!prefix.isEmpty() && !prefix.endsWith("/")) {
      prefix = prefix + "/";
    }
    try {
      // The rules every key of Warmgate's follows, checked on a key under the prefix.
      ObjectRef.parse(key, "s3://" + bucket + "/" + prefix + "x");
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(key + " '" + uri + "': " + e.getMessage(), e);
    }
    return new ObjectRef(bucket, prefix);
  }
}
