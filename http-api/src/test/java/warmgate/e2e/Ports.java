package warmgate.e2e;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports for the nodes a test starts.
 *
 * <p>The ports come from below Linux's ephemeral range (32768-60999 by default), never from it: a port the kernel
 * hands out for {@code bind(0)} is just as free for the next outgoing connection, and between this call and the
 * child node's bind, three nodes booting open dozens of them (journal connections, cluster links, bootstrap
 * probes). A node that lost its port that way exits, and the others wait for it until the test times out. A port is
 * also never handed out twice in one JVM.
 */
public final class Ports {
  private static final int LOW = 20_000;
  private static final int HIGH = 32_000;
  private static final Set<Integer> GIVEN = new HashSet<>();

  private Ports() {}

  public static synchronized int free() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = random.nextInt(LOW, HIGH);
      if (!GIVEN.contains(port) && bindable(port)) {
        GIVEN.add(port);
        return port;
      }
    }
    throw new IllegalStateException("no free port between " + LOW + " and " + HIGH + " after 1000 tries");
  }

  private static boolean bindable(int port) {
    // Both the loopback address the nodes listen on and the wildcard: either taken means the node could not bind.
    try (ServerSocket loopback = new ServerSocket()) {
      loopback.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    } catch (IOException e) {
      return false;
    }
    try (ServerSocket any = new ServerSocket(port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
