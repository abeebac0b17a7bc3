package warmgate.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import warmgate.auth.TestTokens;

/**
 * Warmgate running as {@code warmgate serve} in a JVM of its own, so a test can kill it with SIGKILL. Public
 * for the benchmarks (warmgate.bench), which start nodes the same way.
 */
public final class ChildNode implements AutoCloseable {
  /** The JVM options of a test node: small, quick to start. */
  public static final List<String> TEST_JVM = List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  public final Process process;
  public final Api api;
  public final Path log;

  private ChildNode(Process process, int port, Path log) {
    this.process = process;
    this.api = new Api(port, TestTokens.ADMIN);
    this.log = log;
  }

  /** @param conf a HOCON file that includes application.conf, {@link TestTokens#hocon()} and what else the test needs
   * */
  public static ChildNode start(Path conf, int port, Path log) throws IOException {
    return start(conf, port, log, TEST_JVM);
  }

  /** @param jvmOptions in place of {@link #TEST_JVM} (heap size, GC, logging) */
  public static ChildNode start(Path conf, int port, Path log, List<String> jvmOptions) throws IOException {
    ChildNode node = launch(conf, port, log, jvmOptions);
    try {
      node.awaitAnswering();
    } catch (RuntimeException | Error e) {
      node.process.destroyForcibly(); // the caller never gets the node, so nobody else would stop it
      throw e;
    }
    return node;
  }

  /** Starts the JVM without waiting for it, so several nodes can boot side by side (and find each other). */
  public static ChildNode launch(Path conf, int port, Path log) throws IOException {
    return launch(conf, port, log, TEST_JVM);
  }

  /** @param jvmOptions in place of {@link #TEST_JVM}, e.g. a larger heap for a benchmark */
  public static ChildNode launch(Path conf, int port, Path log, List<String> jvmOptions) throws IOException {
    return launch(conf, port, log, jvmOptions, Map.of());
  }

  /**
   * @param environment variables added to this JVM's environment for the node, as a pod's {@code env} entries are
   *     to its container's
   */
  public static ChildNode launch(Path conf, int port, Path log, List<String> jvmOptions,
      Map<String, String> environment) throws IOException {
    return launch(conf, port, log, jvmOptions, environment, System.getProperty("java.class.path"));
  }

  /** @param classPath the node's, in place of this JVM's (a class data sharing archive needs one of jars only) */
  public static ChildNode launch(Path conf, int port, Path log, List<String> jvmOptions,
      Map<String, String> environment, String classPath) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java));
    command.addAll(jvmOptions);
    command.addAll(List.of("-Dconfig.file=" + conf, "-cp", classPath, "warmgate.node.Main", "serve"));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(environment);
    Process process = builder
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
    return new ChildNode(process, port, log);
  }

  /** Until the node answers for its endpoint, which takes a formed cluster and a started HTTP edge. */
  public void awaitAnswering() {
    awaitAnswering(Duration.ofSeconds(90));
  }

  /** @param max longer than the tests' 90 s for a benchmark on a busy machine */
  public void awaitAnswering(Duration max) {
    Await.until(max, "the child node to answer HTTP (log: " + log + ")", () -> {
      if (!process.isAlive()) {
        throw new IllegalStateException("the child node exited: " + logTail());
      }
      return api.get("/v1/endpoints/gen3d").status() == 200;
    });
  }

  /**
   * Waits until every node answers, failing at once with the dead node's log when any one of them exits: nodes that
   * form one cluster wait for each other, so a node that died (a port taken, say) would otherwise show up only as
   * the first node never answering.
   */
  public static void awaitAnswering(List<ChildNode> nodes, Duration max) {
    Await.until(max, "every child node to answer HTTP (logs: " + nodes.stream().map(n -> n.log.toString()).toList()
        + ")", () -> {
          for (ChildNode node : nodes) {
            if (!node.process.isAlive()) {
              throw new IllegalStateException("the child node logging to " + node.log + " exited with "
                  + node.process.exitValue() + ":\n" + node.logTail());
            }
          }
          return nodes.stream().allMatch(n -> n.api.get("/v1/endpoints/gen3d").status() == 200);
        });
  }

  /**
   * The configuration of one node of a test cluster on loopback, without how it finds the others: its own data
   * folder and ports, the shared PostgreSQL journal, and one bucket folder and one model-process folder for all
   * nodes. They stand for S3 and for a model server every node reaches, and let whichever node hosts the endpoint
   * adopt the running model. A killed node is downed after 5 s (the default waits 20 s for the partition to settle).
   *
   * @param root the test's folder: {@code buckets/}, {@code endpoints/} and the node's data folder {@code name/}
   */
  public static String clusterNodeHocon(Path root, String name, int httpPort, int remotePort, int managementPort,
      Postgres postgres, int modelPort) {
    return """
        include classpath("application.conf")
        warmgate.data-dir = "%s"
        warmgate.http.port = %d
        pekko.remote.artery.canonical.port = %d
        pekko.management.http.port = %d
        warmgate.database.url = "%s"
        warmgate.database.user = "%s"
        warmgate.blob-store.local.root = "%s"
        warmgate.blob-store.local.watch-interval = 0s
        warmgate.endpoints.gen3d.process.state-dir = "%s"
        warmgate.endpoints.gen3d.process.port = %d
        warmgate.endpoints.gen3d.process.command = ["{java}", "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
          "-cp", "{classpath}", "warmgate.demo.DemoModelServer", "--host", "{host}", "--port", "{port}",
          "--startup-delay", "2s", "--invoke-delay", "300ms"]
        warmgate.endpoints.gen3d.max-concurrency = 2
        warmgate.endpoint-defaults.status-poll-interval = 200ms
        warmgate.request.acquire-interval = 1s
        pekko.cluster.split-brain-resolver.stable-after = 5s
        """.formatted(root.resolve(name), httpPort, remotePort, managementPort, postgres.url, Postgres.USER,
        root.resolve("buckets"), root.resolve("endpoints"), modelPort) + TestTokens.hocon();
  }

  /** SIGKILL: no shutdown hook, no flush, no goodbye. */
  public void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** Everything the node has logged so far (every run of it, when it was started again on the same log). */
  public String logText() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String logTail() {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
