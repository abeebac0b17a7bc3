package warmgate.bench.recovery;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.e2e.ChildNode;
import warmgate.e2e.ModelProcesses;
import warmgate.e2e.Ports;

/**
 * One Warmgate node in a child JVM (the tests' {@link ChildNode}) on a database of the benchmark's, with its endpoint
 * {@code gen3d}, and the HTTP calls the recovery and memory benchmarks make to it. The node's configuration stays
 * the same over restarts: same folder, same ports, same database.
 */
final class BenchNode implements AutoCloseable {
  /** An input every job names; its content does not matter, only that it is there (a job missing one waits for it). */
  static final String INPUT = "s3://gen3d/bench/input.png";

  /**
   * The benchmark's class path without its folders (its own classes): a class data sharing archive can only be made
   * from jars, and the node needs none of the benchmark's classes. The same with and without an archive.
   */
  static final String NODE_CLASS_PATH = String.join(File.pathSeparator, Arrays.stream(
      System.getProperty("java.class.path").split(File.pathSeparator)).filter(e -> !Files.isDirectory(Path.of(e)))
      .toList());

  /** Minutes, not the tests' 90 s: a busy machine can take that long to start a JVM. */
  private static final Duration STARTUP = Duration.ofMinutes(10);

  final Path dir;
  final Path conf;
  final int httpPort;
  private final List<String> jvm;
  private final String baseConf;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private ChildNode node;
  private int runs;
  /** The class data sharing archive the next starts map; null: none. */
  private Path archive;
  /** The next starts' class path: this build's, or another's ({@link #useBuild}). */
  private String classPath = NODE_CLASS_PATH;

  /**
   * @param settings HOCON lines after the common ones (database, folder, ports, the endpoint's model command)
   * @param jvm the node JVM's options
   */
  private final Thread stopOnExit = new Thread(this::closeOnExit, "bench-node-stop");

  BenchNode(Path dir, String dbUrl, String dbUser, String settings, List<String> jvm) throws IOException {
    this.dir = dir;
    this.jvm = jvm;
    this.httpPort = Ports.free();
    this.conf = dir.resolve("node.conf");
    Files.createDirectories(dir.resolve("buckets/gen3d/bench"));
    Files.write(dir.resolve("buckets/gen3d/bench/input.png"), new byte[] {1, 2, 3});
    this.baseConf = """
        include classpath("application.conf")
        warmgate.data-dir = "%s"
        warmgate.database.url = "%s"
        warmgate.database.user = "%s"
        warmgate.http.port = %d
        pekko.remote.artery.canonical.port = %d
        warmgate.blob-store.local.watch-interval = 0s
        """.formatted(dir, dbUrl, dbUser, httpPort, Ports.free()) + TestTokens.hocon() + settings;
    Files.writeString(conf, baseConf);
    Runtime.getRuntime().addShutdownHook(stopOnExit);
  }

  /** Settings added for the node's next start (replacing those of the last call). */
  void configure(String extra) throws IOException {
    Files.writeString(conf, baseConf + extra);
  }

  /** Starts the node's JVM; returns once it answers HTTP for its endpoint. */
  Duration start() throws IOException {
    long t0 = launch();
    awaitAnswering();
    return Duration.ofNanos(System.nanoTime() - t0);
  }

  /** The nanoTime just before the JVM was launched, for timing what follows the start. */
  long launch() throws IOException {
    List<String> options = new ArrayList<>(jvm);
    if (archive != null) {
      options.add("-XX:SharedArchiveFile=" + archive);
    }
    long t0 = System.nanoTime();
    node = ChildNode.launch(conf, httpPort, dir.resolve("node-" + (++runs) + ".log"), options, Map.of(), classPath);
    return t0;
  }

  /**
   * Records the classes a node's start loads in a class data sharing archive, as the image and bin/run do
   * ({@code warmgate cds-training} under {@code -XX:ArchiveClassesAtExit}), with the node's class path and options.
   */
  Path recordClassArchive() throws IOException, InterruptedException {
    Path file = dir.resolve("node.jsa");
    Files.deleteIfExists(file);
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString()));
    // A JVM with a native agent (a profiler from WARMGATE_BENCH_NODE_OPTS) refuses to dump an archive.
    command.addAll(jvm.stream().filter(o -> !o.startsWith("-agentpath:") && !o.startsWith("-agentlib:")).toList());
    command.addAll(List.of("-XX:ArchiveClassesAtExit=" + file, "-cp", NODE_CLASS_PATH, "warmgate.node.Main",
        "cds-training"));
    Path log = dir.resolve("cds-training.log");
    Process training = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!training.waitFor(5, TimeUnit.MINUTES) || training.exitValue() != 0 || !Files.isRegularFile(file)) {
      training.destroyForcibly();
      throw new IllegalStateException("the training start made no class archive (log: " + log + ")");
    }
    return file;
  }

  /** The archive the next starts map ({@link #recordClassArchive}); null: none. */
  void useClassArchive(Path file) {
    this.archive = file;
  }

  /**
   * The next starts run another build's node: the jars of {@code lib}, another checkout's {@code bench/target/lib}
   * (null: this build's). Its journal and index must read this build's, as they do when the schema is the same.
   */
  void useBuild(Path lib) throws IOException {
    if (lib == null) {
      classPath = NODE_CLASS_PATH;
      return;
    }
    try (var jars = Files.list(lib)) {
      classPath = String.join(File.pathSeparator, jars.filter(j -> j.toString().endsWith(".jar")).sorted()
          .map(Path::toString).toList());
    }
  }

  void awaitAnswering() {
    node.awaitAnswering(STARTUP);
  }

  long pid() {
    return node.process.pid();
  }

  String log() {
    return node.logText();
  }

  void kill9() throws InterruptedException {
    node.kill9();
  }

  /** The endpoint as GET /v1/endpoints/gen3d shows it; null while the node does not answer. */
  JsonNode endpoint() {
    try {
      HttpResponse<String> r = http.send(get("/v1/endpoints/gen3d"), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? Json.mapper().readTree(r.body()) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  int queued() {
    JsonNode e = endpoint();
    return e == null ? -1 : e.path("queued").asInt(-1);
  }

  /** Of {@link #queued}, the jobs out of memory (warmgate.request.park-after). */
  int parked() {
    JsonNode e = endpoint();
    return e == null ? -1 : e.path("parked").asInt(-1);
  }

  /**
   * Submits jobs {@code from} to {@code to - 1} through POST /v1/jobs, {@code concurrency} at a time, each with its own
   * Idempotency-Key (so a job id per index); returns once every one was accepted.
   */
  Duration submit(String prefix, int from, int to, int concurrency) throws Exception {
    return submit(prefix, from, to, concurrency, "{\"image\":\"" + INPUT + "\"}");
  }

  /** @param inputs the jobs' {@code inputs} object, as JSON */
  Duration submit(String prefix, int from, int to, int concurrency, String inputs) throws Exception {
    return submit(prefix, from, to, concurrency, inputs, 0);
  }

  /**
   * @param owners 0: the jobs name no owner (the admin token's own); otherwise job i is owner {@code o<i % owners>}'s
   */
  Duration submit(String prefix, int from, int to, int concurrency, String inputs, int owners) throws Exception {
    long t0 = System.nanoTime();
    Semaphore slots = new Semaphore(concurrency);
    AtomicReference<String> failure = new AtomicReference<>();
    AtomicLong done = new AtomicLong();
    for (int i = from; i < to && failure.get() == null; i++) {
      slots.acquire();
      String owner = owners == 0 ? "" : ",\"owner\":\"o" + (i % owners) + "\"";
      String body = "{\"endpoint\":\"gen3d\",\"inputs\":" + inputs + ",\"output\":\"s3://gen3d/bench/out/" + prefix + i
          + ".ply\"" + owner + "}";
      HttpRequest request = HttpRequest.newBuilder(uri("/v1/jobs")).timeout(Duration.ofSeconds(60))
          .header("Authorization", "Bearer " + TestTokens.ADMIN).header("Content-Type", "application/json")
          .header("Idempotency-Key", prefix + i).POST(HttpRequest.BodyPublishers.ofString(body,
              StandardCharsets.UTF_8)).build();
      send(request, 10).whenComplete((r, e) -> {
        if (e != null) {
          failure.compareAndSet(null, e.toString());
        } else if (r.statusCode() != 202 && r.statusCode() != 200) {
          failure.compareAndSet(null, r.statusCode() + " " + r.body());
        }
        long n = done.incrementAndGet();
        if (n % 10_000 == 0) {
          System.err.printf("  submitted %d%n", n);
        }
        slots.release();
      });
    }
    slots.acquire(concurrency);
    if (failure.get() != null) {
      throw new IllegalStateException("a job submission failed: " + failure.get() + " (log: " + node.log + ")");
    }
    return Duration.ofNanos(System.nanoTime() - t0);
  }

  /** Live heap after a full GC, in bytes, and the histogram's top lines (jcmd GC.class_histogram collects first). */
  Histogram histogram() throws Exception {
    Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
        Long.toString(pid()), "GC.class_histogram").redirectErrorStream(true).start();
    String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    jcmd.waitFor(120, TimeUnit.SECONDS);
    long total = -1;
    java.util.Map<String, long[]> classes = new java.util.HashMap<>();
    for (String line : out.split("\n")) {
      String t = line.trim();
      if (t.startsWith("Total")) {
        String[] f = t.split("\\s+");
        total = Long.parseLong(f[2]);
      } else if (t.matches("\\d+:\\s+\\d+\\s+\\d+\\s+\\S+.*")) { // not the first line, "<pid>:"
        String[] f = t.split("\\s+");
        classes.put(f[3], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
      }
    }
    if (total < 0) {
      throw new IllegalStateException("jcmd GC.class_histogram gave no total: " + out);
    }
    return new Histogram(total, classes);
  }

  /**
   * Sends, and again as a client should (the same Idempotency-Key, so the same job): after a 429 (the endpoint's
   * queue is full: back-pressure, so as often as the node asks, after its {@code Retry-After}), and after a 503 up
   * to {@code triesLeft} times.
   */
  private CompletableFuture<HttpResponse<String>> send(HttpRequest request, int triesLeft) {
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenCompose(r -> {
      if (r.statusCode() == 429) {
        long wait = r.headers().firstValueAsLong("Retry-After").orElse(1);
        return later(wait).thenCompose(x -> send(request, triesLeft));
      }
      return r.statusCode() == 503 && triesLeft > 1
          ? later(1).thenCompose(x -> send(request, triesLeft - 1))
          : CompletableFuture.completedFuture(r);
    });
  }

  private static CompletableFuture<Void> later(long seconds) {
    return CompletableFuture.runAsync(() -> {}, CompletableFuture.delayedExecutor(seconds, TimeUnit.SECONDS));
  }

  /**
   * @param liveBytes the histogram's total: every object a full GC kept
   * @param classes bytes and instances per class name
   */
  record Histogram(long liveBytes, java.util.Map<String, long[]> classes) {
    long instances(String className) {
      long[] c = classes.get(className);
      return c == null ? 0 : c[0];
    }
  }

  private HttpRequest get(String path) {
    return HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer "
        + TestTokens.ADMIN).GET().build();
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + httpPort + path);
  }

  /** Stops the node (SIGTERM, then SIGKILL) and the model process it left. */
  @Override
  public void close() throws Exception {
    if (node != null) {
      node.close();
    }
    ModelProcesses.killAll(dir.resolve("endpoints"));
    try {
      Runtime.getRuntime().removeShutdownHook(stopOnExit);
    } catch (IllegalStateException e) {
      // the JVM is exiting: this is the hook itself
    }
  }

  /**
   * A benchmark stopped from outside (Ctrl-C, kill) never reaches its try-with-resources; without this its node
   * and model JVMs ran on, holding the database and the CPU through the next run.
   */
  private void closeOnExit() {
    try {
      close();
    } catch (Exception e) {
      System.err.println("Could not stop the node in " + dir + ": " + e);
    }
  }


  /** A condition a benchmark waits for; reading it may fail (an HTTP call to the node). */
  interface Check {
    boolean ok() throws Exception;
  }

  /** {@code options}, then those of {@code WARMGATE_BENCH_NODE_OPTS} (bench/run), which may add a profiler agent. */
  static List<String> jvmOptions(String... options) {
    List<String> all = new java.util.ArrayList<>(List.of(options));
    String extra = System.getenv("WARMGATE_BENCH_NODE_OPTS");
    if (extra != null && !extra.isBlank()) {
      all.addAll(List.of(extra.trim().split("\\s+")));
    }
    return List.copyOf(all);
  }

  /** Polls {@code check} every half second until it holds; fails naming {@code what} after {@code max}. */
  static void await(Duration max, Check check, String what) throws Exception {
    long deadline = System.nanoTime() + max.toNanos();
    while (!check.ok()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      Thread.sleep(500);
    }
  }
}
