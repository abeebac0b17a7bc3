package warmgate.e2e;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import warmgate.auth.TestTokens;
import warmgate.node.Main;
import warmgate.persistence.DatabaseSettings;

/** A Warmgate node started in this JVM through {@link Main#init}, configured for a fast test. */
final class TestNode implements AutoCloseable {
  final ActorSystem<Void> system;
  final Main.Node node;
  final Path dataDir;
  final int port;
  final Api api;

  private TestNode(ActorSystem<Void> system, Main.Node node, Path dataDir) {
    this.system = system;
    this.node = node;
    this.dataDir = dataDir;
    this.port = node.binding().toCompletableFuture().join().localAddress().getPort();
    this.api = new Api(port, TestTokens.ADMIN);
  }

  /**
   * Settings every test node shares: its own folder and free ports, quick polling, the demo model with a 2 s
   * cold start, authentication on with {@link TestTokens}' tokens ({@link #api} is the admin's).
   */
  static Map<String, Object> defaults(Path dataDir, int modelPort) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("warmgate.data-dir", dataDir.toString());
    settings.put("warmgate.http.port", 0);
    settings.put("warmgate.auth.tokens", TestTokens.entries());
    settings.put("pekko.remote.artery.canonical.port", 0);
    settings.put("warmgate.blob-store.local.watch-interval", "200ms");
    settings.put("warmgate.endpoint-defaults.status-poll-interval", "200ms");
    settings.put("warmgate.request.inputs-check-interval", "200ms");
    settings.put("warmgate.request.acquire-interval", "1s");
    settings.put("warmgate.endpoints.gen3d.process.port", modelPort);
    settings.put("warmgate.endpoints.gen3d.process.command", demoModel("2s"));
    return settings;
  }

  static List<String> demoModel(String startupDelay) {
    return List.of("{java}", "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", "{classpath}",
        "warmgate.demo.DemoModelServer", "--host", "{host}", "--port", "{port}", "--startup-delay", startupDelay);
  }

  static TestNode start(Path dataDir, Map<String, Object> settings) {
    Config config = DatabaseSettings.applyTo(ConfigFactory.load(
        ConfigFactory.parseMap(settings).withFallback(ConfigFactory.parseResourcesAnySyntax("application"))));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "warmgate", config);
    try {
      return new TestNode(system, Main.init(system, Main.Deps.fromConfig(system)), dataDir);
    } catch (RuntimeException e) {
      system.terminate();
      throw e;
    }
  }

  Path bucket(String bucket) {
    return dataDir.resolve("buckets").resolve(bucket);
  }

  /** Writes a file into the local bucket the way an upload lands: whole, under its final name at once. */
  static void upload(Path file, byte[] content) throws Exception {
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling("." + file.getFileName() + ".part");
    Files.write(tmp, content);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
  }

  static String md5(byte[] content) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(content));
  }

  @Override
  public void close() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().orTimeout(30, java.util.concurrent.TimeUnit.SECONDS).join();
  }

  /** Stops this node and its model process. */
  void closeAll() {
    close();
    ModelProcesses.killAll(dataDir.resolve("endpoints"));
  }

  static final Duration JOB_TIMEOUT = Duration.ofSeconds(60);
}
