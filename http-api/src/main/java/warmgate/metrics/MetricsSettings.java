package warmgate.metrics;

import com.typesafe.config.Config;

/**
 * {@code warmgate.metrics}.
 *
 * @param enabled whether {@code GET /metrics} is served at all
 * @param requireAdmin whether it needs an admin token; off, anyone who reaches the HTTP port may read it
 */
public record MetricsSettings(boolean enabled, boolean requireAdmin) {

  public static MetricsSettings fromConfig(Config warmgate) {
    Config metrics = warmgate.getConfig("metrics");
    return new MetricsSettings(metrics.getBoolean("enabled"), metrics.getBoolean("require-admin"));
  }
}
