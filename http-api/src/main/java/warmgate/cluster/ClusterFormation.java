package warmgate.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a node becomes a member (docs/operations.md, "Cluster"). {@code warmgate.cluster.discovery} decides:
 * {@code none} (the embedded default) forms a cluster of one by joining itself; any other value is a Pekko
 * Discovery method ({@code config}: a static list of contact points, {@code kubernetes-api}: the pods with the
 * app's label) that Cluster Bootstrap uses to find the other nodes and form one cluster with them.
 *
 * <p>Pekko Management (its own HTTP port: {@code /alive}, {@code /ready}, the bootstrap contact point) runs
 * whenever bootstrap does, since bootstrap is served by it, and otherwise only when
 * {@code warmgate.management.enabled} is on.
 */
public final class ClusterFormation {
  private static final Logger log = LoggerFactory.getLogger(ClusterFormation.class);
  public static final String NONE = "none";
  private static final String CONTACT_POINT_DISCOVERY = "pekko.management.cluster.bootstrap.contact-point-discovery";

  /**
   * @param contactPoints for discovery {@code config}: the management addresses of every node, as host:port
   */
  public record Settings(String discovery, boolean managementEnabled, boolean joinSelf, String serviceName,
      List<String> contactPoints) {

    public boolean bootstrap() {
      return !discovery.equals(NONE);
    }

    public boolean management() {
      return managementEnabled || bootstrap();
    }

    /** Reads and checks the settings; a discovery method Pekko does not know stops the node at start. */
    public static Settings fromConfig(Config config) {
      Config cluster = config.getConfig("warmgate.cluster");
      String discovery = cluster.getString("discovery").strip();
      if (!discovery.equals(NONE) && !config.hasPath("pekko.discovery." + discovery + ".class")) {
        throw new IllegalArgumentException("warmgate.cluster.discovery (WARMGATE_DISCOVERY) is '" + discovery
            + "': expected none, config, kubernetes-api or another configured pekko.discovery method");
      }
      List<String> contactPoints = new ArrayList<>();
      for (String point : cluster.getValue("contact-points").valueType() == ConfigValueType.STRING
          ? List.of(cluster.getString("contact-points").split(","))
          : cluster.getStringList("contact-points")) {
        if (!point.isBlank()) {
          contactPoints.add(point.strip());
        }
      }
      return new Settings(discovery, config.getBoolean("warmgate.management.enabled"), cluster.getBoolean("join-self"),
          config.getString(CONTACT_POINT_DISCOVERY + ".service-name"), List.copyOf(contactPoints));
    }

    /** {@code host:port} as Pekko's config discovery lists an endpoint. */
    static Map<String, Object> endpoint(String contactPoint) {
      int colon = contactPoint.lastIndexOf(':');
      if (colon <= 0 || colon == contactPoint.length() - 1) {
        throw new IllegalArgumentException("warmgate.cluster.contact-points (WARMGATE_CONTACT_POINTS): '" + contactPoint
            + "' is not host:port (the management host and port of a node)");
      }
      try {
        return Map.of("host", contactPoint.substring(0, colon), "port", Integer.parseInt(contactPoint.substring(colon
            + 1)));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("warmgate.cluster.contact-points (WARMGATE_CONTACT_POINTS): '" + contactPoint
            + "' has no port number", e);
      }
    }
  }

  private ClusterFormation() {}

  /**
   * The application config with {@code warmgate.cluster.contact-points} written where Pekko's {@code config}
   * discovery reads them ({@code pekko.discovery.config.services.<service-name>.endpoints}), so one
   * environment variable can list them. Must run before the actor system is created.
   */
  public static Config applyTo(Config config) {
    Settings settings = Settings.fromConfig(config);
    if (settings.contactPoints().isEmpty()) {
      return config;
    }
    List<Map<String, Object>> endpoints = settings.contactPoints().stream().map(Settings::endpoint).toList();
    String path = "pekko.discovery.config.services.\"" + settings.serviceName() + "\".endpoints";
    return config.withValue(path, ConfigValueFactory.fromIterable(endpoints));
  }

  /** Starts management when wanted, then joins: itself, or the cluster Cluster Bootstrap finds or forms. */
  public static void start(ActorSystem<?> system) {
    Config config = system.settings().config();
    Settings settings = Settings.fromConfig(config);
    if (settings.discovery().equals("config")) {
      String path = "pekko.discovery.config.services.\"" + settings.serviceName() + "\".endpoints";
      if (!config.hasPath(path) || config.getList(path).isEmpty()) {
        throw new IllegalArgumentException(
            "warmgate.cluster.discovery is config but no contact points are configured: set "
            + "warmgate.cluster.contact-points (WARMGATE_CONTACT_POINTS, host:port of every node's management) or "
                + path);
      }
    }
    if (settings.management()) {
      PekkoManagement.get(system.classicSystem()).start().whenComplete((uri, failure) -> {
        if (failure != null) {
          // Without it the probes fail and bootstrap cannot run: better to stop than to linger unready.
          StartFailed.shutDown(system, "Pekko Management could not start", failure);
        } else {
          log.info("Pekko Management listens on {} (/alive, /ready{})", uri, settings.bootstrap()
              ? ", cluster bootstrap" : "");
        }
      });
    }
    Cluster cluster = Cluster.get(system);
    if (settings.bootstrap()) {
      log.info("Joining a cluster through Cluster Bootstrap: discovery {}, service {}{}", settings.discovery(),
          settings.serviceName(),
          settings.contactPoints().isEmpty() ? "" : ", contact points " + settings.contactPoints());
      try {
        ClusterBootstrap.get(system.classicSystem()).start();
      } catch (Exception e) { // checked ones too: kubernetes-api discovery throws NoSuchFileException unannounced
        throw new IllegalStateException("Cluster Bootstrap could not start with discovery " + settings.discovery()
            + (settings.discovery().equals("kubernetes-api") ? " (it reads the pod's service-account files: token, "
            + "ca.crt and namespace under /var/run/secrets/kubernetes.io/serviceaccount; is the token mounted?)" : "")
            + ": " + e, e);
      }
    } else if (settings.joinSelf() && config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
  }
}
