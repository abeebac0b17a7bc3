package warmgate.config;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How an endpoint shares its slots among the owners of the jobs waiting for them: {@code queue} of an endpoint's
 * settings (docs/configuration.md).
 *
 * @param policy {@code fair}: the owners with jobs waiting take the free slots in turn, in proportion to their
 *     weights; {@code fifo}: in arrival order, whoever they belong to
 * @param priorityAgeing how much earlier than a batch job an interactive job is taken to have arrived: interactive
 *     work goes first, but a batch job that has waited this much longer goes before it, so batch work is never
 *     starved
 * @param ownerDefaults the share of an owner not listed in {@code owners}
 * @param owners shares by owner name
 */
public record QueueSettings(
    Policy policy, Duration priorityAgeing, OwnerShare ownerDefaults, Map<String, OwnerShare> owners) {

  public enum Policy {
    FAIR,
    FIFO
  }

  /**
   * One owner's share of an endpoint.
   *
   * @param weight its turns relative to the other owners' (2: twice as many slots as an owner of weight 1, while
   *     both have jobs waiting)
   * @param maxQueued jobs of this owner waiting for the endpoint at most; more are refused at admission
   * @param maxInFlight slots this owner holds at most at once; 0: as many as the endpoint has
   */
  public record OwnerShare(double weight, int maxQueued, int maxInFlight) {
    public OwnerShare {
      if (!(weight > 0) || Double.isInfinite(weight)) {
        throw new IllegalArgumentException("weight must be a positive number, not " + weight);
      }
      if (maxQueued < 1) {
        throw new IllegalArgumentException("max-queued must be at least 1, not " + maxQueued);
      }
      if (maxInFlight < 0) {
        throw new IllegalArgumentException("max-in-flight must not be negative (0: no limit), not " + maxInFlight);
      }
    }
  }

  /** Fair share, every owner of weight 1 with at most 5,000 jobs queued, interactive work 30 s ahead. */
  public static final QueueSettings DEFAULT = new QueueSettings(Policy.FAIR, Duration.ofSeconds(30),
      new OwnerShare(1, 5_000, 0), Map.of());

  public QueueSettings {
    if (priorityAgeing.isNegative()) {
      throw new IllegalArgumentException("queue.priority-ageing must not be negative");
    }
    owners = Map.copyOf(owners);
  }

  /** The share of {@code owner} (null: a job without an owner, which shares as the defaults say). */
  public OwnerShare share(String owner) {
    OwnerShare listed = owner == null ? null : owners.get(owner);
    return listed == null ? ownerDefaults : listed;
  }

  /** Reads a {@code queue} block; keys it lacks keep their defaults, and each owner's block falls back on them. */
  public static QueueSettings of(Config c) {
    String word = c.hasPath("policy") ? c.getString("policy") : "fair";
    Policy policy = switch (word) {
      case "fair" -> Policy.FAIR;
      case "fifo" -> Policy.FIFO;
      default -> throw new IllegalArgumentException("queue.policy '" + word + "' is not fair or fifo");
    };
    OwnerShare defaults = c.hasPath("owner-defaults") ? share("queue.owner-defaults", c.getConfig("owner-defaults"),
        DEFAULT.ownerDefaults()) : DEFAULT.ownerDefaults();
    Map<String, OwnerShare> owners = new LinkedHashMap<>();
    if (c.hasPath("owners")) {
      Config listed = c.getConfig("owners");
      for (String owner : listed.root().keySet()) {
        owners.put(owner, share("queue.owners." + owner, listed.getConfig("\"" + owner + "\""), defaults));
      }
    }
    return new QueueSettings(policy,
        c.hasPath("priority-ageing") ? c.getDuration("priority-ageing") : DEFAULT.priorityAgeing(), defaults, owners);
  }

  private static OwnerShare share(String where, Config c, OwnerShare fallback) {
    try {
      return new OwnerShare(
          c.hasPath("weight") ? c.getDouble("weight") : fallback.weight(),
          c.hasPath("max-queued") ? c.getInt("max-queued") : fallback.maxQueued(),
          c.hasPath("max-in-flight") ? c.getInt("max-in-flight") : fallback.maxInFlight());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
  }
}
