package warmgate.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.persistence.DatabaseSettings;

/**
 * The {@code cds-training} command: starts a throwaway node and stops it, so that a JVM run with
 * {@code -XX:ArchiveClassesAtExit} records the classes a node's start loads in a class data sharing archive. A node
 * started with {@code -XX:SharedArchiveFile} of that archive maps those classes, parsed and verified, instead of
 * loading them from the jars: on two cores class loading was a quarter of a start's CPU and the start took half as
 * long with the archive (docs/benchmarks.md, section 4). The image and {@code bin/run} make the archive this way.
 *
 * <p>The node runs on its embedded default as shipped (application.conf without the environment's variables or its
 * configuration file) in a temporary folder, on ports the system picks and listening on loopback only, so a
 * training run never touches a real journal, bucket or endpoint and never clashes with a node running beside it. It
 * answers a few reads through its HTTP edge (which starts the endpoints' entities and loads the routes' classes), and
 * stops; no job is submitted, so no model starts.
 */
final class ClassArchiveTraining {
  private static final Logger log = LoggerFactory.getLogger(ClassArchiveTraining.class);

  /** What the node is asked once it is up; each must answer 200. */
  static final List<String> READS = List.of("/v1/endpoints", "/v1/jobs?limit=1", "/metrics");
  /** A node that takes longer than this to start or to stop fails the training. */
  static final Duration LIMIT = Duration.ofMinutes(2);

  private ClassArchiveTraining() {}

  static void main(String[] args) {
    if (args.length > 0) {
      System.err.println("usage: warmgate cds-training (no options): run it under -XX:ArchiveClassesAtExit=FILE");
      System.exit(2);
    }
    Map<String, Integer> answers;
    try {
      answers = run();
    } catch (Exception e) {
      log.error("The training start failed", e);
      System.exit(1);
      return;
    }
    System.out.println("A node started, answered " + answers + " and stopped; the JVM records its classes as it "
        + "exits (with -XX:ArchiveClassesAtExit)");
    System.exit(0);
  }

  /** Starts the node, reads {@link #READS}, stops it; the status of each read, in order. */
  static Map<String, Integer> run() throws Exception {
    Path dir = Files.createTempDirectory("warmgate-cds-training");
    try {
      Config overrides = ConfigFactory.parseMap(Map.ofEntries(
          Map.entry("warmgate.data-dir", dir.toString()),
          Map.entry("warmgate.database.url", ""),
          Map.entry("warmgate.http.interface", "127.0.0.1"),
          Map.entry("warmgate.http.port", 0),
          Map.entry("warmgate.auth.enabled", false),
          Map.entry("warmgate.management.enabled", false),
          Map.entry("warmgate.cluster.discovery", "none"),
          Map.entry("warmgate.cluster.join-self", true),
          Map.entry("pekko.cluster.seed-nodes", List.of()),
          Map.entry("pekko.remote.artery.canonical.hostname", "127.0.0.1"),
          Map.entry("pekko.remote.artery.canonical.port", 0),
          // The image sets WARMGATE_EXIT_JVM: the JVM must end here, after the answers, not in the node's shutdown.
          Map.entry("pekko.coordinated-shutdown.exit-jvm", false)));
      // application.conf and the reference.conf files as shipped, without the WARMGATE_* variables, the file of
      // -Dconfig.file or system properties (ConfigFactory.load reads those; Pekko adds the last only where this has
      // no value): a configuration of the environment's (SageMaker endpoints, an S3 bucket) would have this start
      // call them.
      Config config = DatabaseSettings.applyTo(overrides
          .withFallback(ConfigFactory.parseResourcesAnySyntax("application"))
          .withFallback(ConfigFactory.parseResourcesAnySyntax("reference"))
          .resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(false)));
      ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "warmgate", config);
      try {
        Main.Node node = Main.init(system, Main.Deps.fromConfig(system));
        ServerBinding binding = node.binding().toCompletableFuture().get(LIMIT.toSeconds(), TimeUnit.SECONDS);
        return read(binding.localAddress().getPort());
      } finally {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(LIMIT.toSeconds(), TimeUnit.SECONDS);
      }
    } finally {
      delete(dir);
    }
  }

  private static Map<String, Integer> read(int port) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    Map<String, Integer> answers = new LinkedHashMap<>();
    for (String path : READS) {
      HttpResponse<Void> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.discarding());
      answers.put(path, response.statusCode());
      if (response.statusCode() != 200) {
        throw new IllegalStateException("the training node answered " + response.statusCode() + " to GET " + path);
      }
    }
    return answers;
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
