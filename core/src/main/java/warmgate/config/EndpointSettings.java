package warmgate.config;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One endpoint's settings, read from {@code warmgate.endpoints.<name>} over {@code warmgate.endpoint-defaults}.
 *
 * @param provider a kind of provider the registry knows ({@code process}, {@code sagemaker}); its own block is
 *     {@code providerConfig}
 * @param maxConcurrency leases granted at once while the endpoint is warm
 * @param maxQueued jobs that may wait for a slot at once; beyond it new jobs are refused with 503
 * @param idleTimeout how long a warm endpoint with nothing queued or running stays up (the {@code fixed} keep-warm
 *     policy)
 * @param startTimeout how long a start may take before it counts as failed
 * @param maxStartFailures failed starts in a row after which the endpoint is FAILED and refuses jobs
 * @param failedRetryAfter how long a FAILED endpoint waits before it tries one start again for waiting jobs;
 *     zero: only a start by hand clears it
 * @param leaseTtl how long a grant lives without being renewed; a crashed holder's slot returns after it
 * @param statusPollInterval how often the provider is described while the endpoint starts or stops
 * @param reconcileInterval how often the provider is described while the endpoint is warm or cold
 * @param invokeTimeout the longest one model call may take
 * @param keepWarm which policy decides how long an idle warm endpoint stays up, and its parameters
 * @param inputs how large a job's inputs may be ({@code max-input-bytes}, {@code max-job-input-bytes})
 */
public record EndpointSettings(
    String name,
    String provider,
    int maxConcurrency,
    int maxQueued,
    Duration idleTimeout,
    Duration startTimeout,
    int maxStartFailures,
    Duration failedRetryAfter,
    Duration leaseTtl,
    Duration statusPollInterval,
    Duration reconcileInterval,
    Duration invokeTimeout,
    Config providerConfig,
    KeepWarmSettings keepWarm,
    QueueSettings queue,
    InputLimits inputs) {

  public EndpointSettings {
    if (!name.matches("[a-zA-Z0-9][a-zA-Z0-9-]{0,62}")) {
      throw new IllegalArgumentException("endpoint name '" + name + "' must be 1-63 letters, digits or hyphens");
    }
    // Whether a provider of that name exists is the provider registry's to say, when the endpoint is bound.
    if (maxConcurrency < 1) {
      throw new IllegalArgumentException("endpoint " + name + ": max-concurrency must be at least 1");
    }
    if (maxQueued < 1) {
      throw new IllegalArgumentException("endpoint " + name + ": max-queued must be at least 1");
    }
    requirePositive(name, "idle-timeout", idleTimeout);
    requirePositive(name, "start-timeout", startTimeout);
    if (maxStartFailures < 1) {
      throw new IllegalArgumentException("endpoint " + name + ": max-start-failures must be at least 1");
    }
    if (failedRetryAfter.isNegative()) {
      throw new IllegalArgumentException("endpoint " + name + ": failed-retry-after must not be negative");
    }
    requirePositive(name, "lease-ttl", leaseTtl);
    requirePositive(name, "status-poll-interval", statusPollInterval);
    requirePositive(name, "reconcile-interval", reconcileInterval);
    requirePositive(name, "invoke-timeout", invokeTimeout);
    if (keepWarm == null) {
      throw new IllegalArgumentException("endpoint " + name + ": keep-warm is missing");
    }
    if (queue == null) {
      throw new IllegalArgumentException("endpoint " + name + ": queue is missing");
    }
    if (inputs == null) {
      throw new IllegalArgumentException("endpoint " + name + ": input limits are missing");
    }
  }

  /** Settings with the provider's default input limits ({@link InputLimits#forProvider}). */
  public EndpointSettings(String name, String provider, int maxConcurrency, int maxQueued, Duration idleTimeout,
      Duration startTimeout, int maxStartFailures, Duration failedRetryAfter, Duration leaseTtl,
      Duration statusPollInterval, Duration reconcileInterval, Duration invokeTimeout, Config providerConfig,
      KeepWarmSettings keepWarm, QueueSettings queue) {
    this(name, provider, maxConcurrency, maxQueued, idleTimeout, startTimeout, maxStartFailures, failedRetryAfter,
        leaseTtl, statusPollInterval, reconcileInterval, invokeTimeout, providerConfig, keepWarm, queue,
        InputLimits.forProvider(provider));
  }

  /** These settings with other input limits. */
  public EndpointSettings withInputs(InputLimits limits) {
    return new EndpointSettings(name, provider, maxConcurrency, maxQueued, idleTimeout, startTimeout,
        maxStartFailures, failedRetryAfter, leaseTtl, statusPollInterval, reconcileInterval, invokeTimeout,
        providerConfig, keepWarm, queue, limits);
  }

  /** Settings whose slots are shared as {@link QueueSettings#DEFAULT} says. */
  public EndpointSettings(String name, String provider, int maxConcurrency, int maxQueued, Duration idleTimeout,
      Duration startTimeout, int maxStartFailures, Duration failedRetryAfter, Duration leaseTtl,
      Duration statusPollInterval, Duration reconcileInterval, Duration invokeTimeout, Config providerConfig,
      KeepWarmSettings keepWarm) {
    this(name, provider, maxConcurrency, maxQueued, idleTimeout, startTimeout, maxStartFailures, failedRetryAfter,
        leaseTtl, statusPollInterval, reconcileInterval, invokeTimeout, providerConfig, keepWarm,
        QueueSettings.DEFAULT);
  }

  /** Settings with the {@code fixed} keep-warm policy: stopped after {@code idleTimeout}. */
  public EndpointSettings(String name, String provider, int maxConcurrency, int maxQueued, Duration idleTimeout,
      Duration startTimeout, int maxStartFailures, Duration failedRetryAfter, Duration leaseTtl,
      Duration statusPollInterval, Duration reconcileInterval, Duration invokeTimeout, Config providerConfig) {
    this(name, provider, maxConcurrency, maxQueued, idleTimeout, startTimeout, maxStartFailures, failedRetryAfter,
        leaseTtl,
        statusPollInterval, reconcileInterval, invokeTimeout, providerConfig, KeepWarmSettings.FIXED);
  }

  /** Every endpoint under {@code warmgate.endpoints}, in the order the config lists them. */
  public static Map<String, EndpointSettings> fromConfig(Config warmgate) {
    Config defaults = warmgate.getConfig("endpoint-defaults");
    Config endpoints = warmgate.getConfig("endpoints");
    Map<String, EndpointSettings> result = new LinkedHashMap<>();
    for (String name : endpoints.root().keySet()) {
      result.put(name, of(name, endpoints.getConfig(quoteKey(name)).withFallback(defaults)));
    }
    return Collections.unmodifiableMap(result);
  }

  public static EndpointSettings of(String name, Config c) {
    String provider = c.getString("provider");
    return new EndpointSettings(
        name,
        provider,
        c.getInt("max-concurrency"),
        c.getInt("max-queued"),
        c.getDuration("idle-timeout"),
        c.getDuration("start-timeout"),
        c.getInt("max-start-failures"),
        c.getDuration("failed-retry-after"),
        c.getDuration("lease-ttl"),
        c.getDuration("status-poll-interval"),
        c.getDuration("reconcile-interval"),
        c.getDuration("invoke-timeout"),
        c.hasPath(provider) ? c.getConfig(provider) : com.typesafe.config.ConfigFactory.empty(),
        c.hasPath("keep-warm") ? KeepWarmSettings.of(c.getConfig("keep-warm")) : KeepWarmSettings.FIXED,
        queue(name, c),
        InputLimits.of(name, provider, c));
  }

  private static QueueSettings queue(String name, Config c) {
    if (!c.hasPath("queue")) {
      return QueueSettings.DEFAULT;
    }
    try {
      return QueueSettings.of(c.getConfig("queue"));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("endpoint " + name + ": " + e.getMessage(), e);
    }
  }

  private static String quoteKey(String key) {
    return "\"" + key + "\"";
  }

  private static void requirePositive(String name, String key, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException("endpoint " + name + ": " + key + " must be positive");
    }
  }
}
