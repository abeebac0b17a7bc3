package warmgate.gateway;

import com.typesafe.config.Config;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.Endpoints;
import warmgate.endpoint.ManagedEndpoint;

/**
 * A start-up check: a local model process cannot listen where this node's HTTP interface listens, nor where
 * another model process does. Caught here, it stops the node with a sentence; found at the first job, it was a
 * model that could not bind and an endpoint FAILED for {@code failed-retry-after}.
 */
public final class PortClashes {
  private PortClashes() {}

  /** @throws IllegalArgumentException naming the clash and the settings to change */
  public static void check(Config warmgate, Endpoints endpoints) {
    List<String> clashes = find(warmgate.getString("http.interface"), warmgate.getInt("http.port"),
        endpoints.all().stream().map(ManagedEndpoint::settings).toList());
    if (!clashes.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", clashes));
    }
  }

  static List<String> find(String httpInterface, int httpPort, Collection<EndpointSettings> endpoints) {
    List<String> clashes = new ArrayList<>();
    List<EndpointSettings> processes = endpoints.stream().filter(e -> e.provider().equals("process")).toList();
    for (int i = 0; i < processes.size(); i++) {
      EndpointSettings endpoint = processes.get(i);
      String host = endpoint.providerConfig().getString("host");
      int port = endpoint.providerConfig().getInt("port");
      if (port != 0 && port == httpPort && overlap(host, httpInterface)) {
        clashes.add("endpoint " + endpoint.name() + " runs its model process on " + host + ":" + port
            + ", where this node's HTTP interface listens (warmgate.http.interface " + httpInterface
                + ", warmgate.http.port "
            + httpPort + "); change one of warmgate.http.port (WARMGATE_HTTP_PORT) or warmgate.endpoints."
                + endpoint.name()
            + ".process.port");
      }
      for (EndpointSettings other : processes.subList(i + 1, processes.size())) {
        String otherHost = other.providerConfig().getString("host");
        if (port != 0 && port == other.providerConfig().getInt("port") && overlap(host, otherHost)) {
          clashes.add("endpoints " + endpoint.name() + " and " + other.name()
              + " both run their model process on port " + port
              + " (" + host + ", " + otherHost + "); give each its own warmgate.endpoints.<name>.process.port");
        }
      }
    }
    return clashes;
  }

  /** Whether two listening addresses share a port space: the same address, or either one every address (0.0.0.0). */
  static boolean overlap(String a, String b) {
    if (a.equalsIgnoreCase(b)) {
      return true;
    }
    try {
      InetAddress first = InetAddress.getByName(a);
      InetAddress second = InetAddress.getByName(b);
      boolean namedLoopback = a.equalsIgnoreCase("localhost") || b.equalsIgnoreCase("localhost");
      // "localhost" may resolve to ::1 or 127.0.0.1 depending on the host's settings; either way it is this machine.
      return first.isAnyLocalAddress() || second.isAnyLocalAddress() || first.equals(second)
          || (namedLoopback && first.isLoopbackAddress() && second.isLoopbackAddress());
    } catch (UnknownHostException e) {
      return false; // a name that does not resolve here cannot be listened on either; binding says so
    }
  }
}
