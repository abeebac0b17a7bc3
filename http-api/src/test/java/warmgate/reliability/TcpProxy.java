package warmgate.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP forwarder on loopback standing between the nodes and PostgreSQL, so a test can take the database away
 * from them without stopping the server other tests share. {@link #outage} closes every live connection (the
 * nodes see their sockets reset mid-query) and stops listening, so new connections are refused, exactly what a
 * stopped PostgreSQL looks like from a client; then it listens again on the same port.
 */
public final class TcpProxy implements AutoCloseable {
  private final InetSocketAddress target;
  private final int port;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicLong connections = new AtomicLong();
  private volatile ServerSocket server;

  private TcpProxy(InetSocketAddress target, ServerSocket server) {
    this.target = target;
    this.server = server;
    this.port = server.getLocalPort();
  }

  /** Listens on a free loopback port and forwards every connection to {@code host:targetPort}. */
  public static TcpProxy start(String host, int targetPort) throws IOException {
    TcpProxy proxy = new TcpProxy(new InetSocketAddress(host, targetPort), listen(0));
    proxy.acceptOn(proxy.server);
    return proxy;
  }

  public int port() {
    return port;
  }

  /** Connections accepted so far. */
  public long connections() {
    return connections.get();
  }

  /**
   * Cuts every connection and refuses new ones for {@code duration}, then accepts again. Blocks for the
   * duration.
   */
  public void outage(Duration duration) throws IOException, InterruptedException {
    ServerSocket listening = server;
    listening.close();
    for (Socket s : open) {
      closeQuietly(s);
    }
    Thread.sleep(duration.toMillis());
    ServerSocket again = rebind();
    server = again;
    acceptOn(again);
  }

  /** The same port again; a few tries, since the kernel may hold it a moment after the close. */
  private ServerSocket rebind() throws IOException, InterruptedException {
    IOException last = null;
    for (int i = 0; i < 50; i++) {
      try {
        return listen(port);
      } catch (IOException e) {
        last = e;
        Thread.sleep(100);
      }
    }
    throw last;
  }

  private static ServerSocket listen(int port) throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
    return s;
  }

  private void acceptOn(ServerSocket listening) {
    Thread acceptor = new Thread(() -> {
      while (!listening.isClosed()) {
        try {
          Socket client = listening.accept();
          connections.incrementAndGet();
          connect(client, listening);
        } catch (IOException e) {
          // closed by an outage or by close(); a new acceptor starts when the proxy listens again
        }
      }
    }, "tcp-proxy-accept-" + port);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private void connect(Socket client, ServerSocket listening) {
    Socket upstream = new Socket();
    try {
      upstream.connect(target, 5_000);
    } catch (IOException e) {
      closeQuietly(client);
      closeQuietly(upstream);
      return;
    }
    open.add(client);
    open.add(upstream);
    if (listening.isClosed()) {
      // accepted just before an outage began: it goes down with the others
      closeQuietly(client);
      closeQuietly(upstream);
      return;
    }
    pump(client, upstream);
    pump(upstream, client);
  }

  /** Copies one direction; when either side ends, both sockets close, as a dropped connection would. */
  private void pump(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (SocketException e) {
        // reset or closed: the connection is over
      } catch (IOException e) {
        // the same
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, "tcp-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private void closeQuietly(Socket s) {
    open.remove(s);
    try {
      // Linger 0: a reset, not an orderly FIN, the way a killed server process's connections end.
      if (!s.isClosed()) {
        s.setSoLinger(true, 0);
      }
      s.close();
    } catch (IOException e) {
      // already gone
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : open) {
      closeQuietly(s);
    }
  }
}
