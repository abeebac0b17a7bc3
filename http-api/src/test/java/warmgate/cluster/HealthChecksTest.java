package warmgate.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import warmgate.auth.TestTokens;
import warmgate.node.Main;
import warmgate.persistence.DatabaseSettings;

// A real node in this JVM (H2 file journal, one-node cluster) with Pekko Management on a free port, probed over HTTP.
class HealthChecksTest {
  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  @TempDir Path dataDir;
  private ActorSystem<Void> system;
  private Main.Deps deps;
  private boolean initialized;

  @AfterEach
  void stop() throws Exception {
    if (deps != null && !initialized) { // Main.init hands them to coordinated shutdown
      for (AutoCloseable resource : deps.resources()) {
        resource.close();
      }
    }
    if (system != null) {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
    }
  }

  private Main.Node init() {
    initialized = true;
    Main.Node node = Main.init(system, deps);
    node.binding().toCompletableFuture().join();
    return node;
  }

  private ActorSystem<Void> start(Map<String, Object> extra) {
    Map<String, Object> settings = new HashMap<>(extra);
    settings.put("warmgate.data-dir", dataDir.toString());
    settings.put("warmgate.http.port", 0);
    settings.put("warmgate.auth.tokens", TestTokens.entries());
    settings.put("warmgate.blob-store.local.watch-interval", "0s");
    settings.put("pekko.remote.artery.canonical.port", 0);
    Config config = DatabaseSettings.applyTo(ConfigFactory.load(
        ConfigFactory.parseMap(settings).withFallback(ConfigFactory.parseResourcesAnySyntax("application"))));
    system = ActorSystem.create(Behaviors.empty(), "warmgate", config);
    deps = Main.Deps.fromConfig(system);
    return system;
  }

  @Test
  void readyOnlyOnceTheHttpEdgeIsBoundWhileAliveThroughout() {
    int management = freePort();
    start(Map.of("warmgate.management.enabled", true, "pekko.management.http.port", management));

    // Management and membership first, as Main.init does, but without the edge yet.
    ClusterFormation.start(system);
    await("the member to be Up", () -> Cluster.get(system).selfMember().status().equals(MemberStatus.up()));
    await("/alive to answer 200", () -> status(management, "/alive") == 200);

    assertThat(status(management, "/ready")).as("Up, but the edge is not bound").isEqualTo(500);

    init();
    await("/ready to answer 200 once the edge is bound", () -> status(management, "/ready") == 200);
    assertThat(status(management, "/alive")).isEqualTo(200);
    assertThat(HttpEdge.get(system).serving()).isTrue();
  }

  @Test
  void readinessDropsWhenCoordinatedShutdownBegins() {
    start(Map.of());
    init();
    var ready = new NodeReady(system.classicSystem());
    await("the node to be ready", () -> ready.get().toCompletableFuture().join());

    // The edge is told first (before-service-unbind), so a load balancer stops sending before it unbinds.
    org.apache.pekko.actor.CoordinatedShutdown.get(system)
        .run(org.apache.pekko.actor.CoordinatedShutdown.unknownReason());

    await("readiness to turn false", () -> !ready.get().toCompletableFuture().join());
    assertThat(HttpEdge.get(system).serving()).isFalse();
  }

  @Test
  void embeddedDefaultStartsNoManagementServer() {
    int management = freePort();
    start(Map.of("pekko.management.http.port", management));

    init();

    assertThat(Cluster.get(system).selfMember().status()).isIn(MemberStatus.joining(), MemberStatus.up());
    assertThatThrownBy(() -> send(management, "/alive")).isInstanceOf(ConnectException.class);
  }

  private static int status(int port, String path) {
    try {
      return send(port, path);
    } catch (IOException e) {
      return -1;
    }
  }

  private static int send(int port, String path) throws IOException {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + path)).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
