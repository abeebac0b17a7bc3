package warmgate.bench.payload;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import warmgate.auth.TestTokens;
import warmgate.bench.Report;
import warmgate.demo.PaddedPng;
import warmgate.demo.SampleImages;
import warmgate.e2e.Api;
import warmgate.e2e.ModelProcesses;
import warmgate.e2e.Ports;

/**
 * Benchmark 9: the node's heap against the size of one job's input, through the {@code process} provider and the
 * demo model, for each build given (say the commit before streaming landed and the one after). Each build is a
 * folder whose {@code http-api/target/warmgate.jar} starts the node; each size gets a fresh node on the embedded
 * default (H2, a local bucket folder). The heap is read from the node's GC log (serial collector, a young generation
 * of {@code --young}, so a collection comes every few MB and the figures follow what is held, not when the
 * collector ran): "peak used" is the most the heap held before any collection during the job (or at its end, from
 * {@code jcmd GC.heap_info}, for a job that ends before a collection), "peak live" the most after one. The
 * baseline is the live heap after a full GC on the idle, warmed node.
 */
public final class PayloadBenchmark {
  private static final Pattern GC = Pattern.compile("(\\d+)([KMG])->(\\d+)([KMG])\\(");

  private record Options(List<Path> builds, List<Long> sizesMb, String heap, String young, String modelHeap,
      Path model) {
    static Options parse(String[] args) {
      List<Path> builds = new ArrayList<>();
      List<Long> sizes = List.of(1L, 10L, 100L, 500L);
      String heap = "3g";
      String young = "32m";
      String modelHeap = "3g";
      Path model = Path.of("http-api/target/warmgate.jar").toAbsolutePath();
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--build" -> builds.add(Path.of(args[++i]).toAbsolutePath().normalize());
          case "--sizes-mb" -> sizes = Arrays.stream(args[++i].split(",")).map(Long::parseLong).toList();
          case "--node-heap" -> heap = args[++i];
          case "--young" -> young = args[++i];
          case "--model-heap" -> modelHeap = args[++i];
          case "--model-jar" -> model = Path.of(args[++i]).toAbsolutePath().normalize();
          default -> {
            System.out.println("""
                bench/run payload [--build DIR]... [--sizes-mb 1,10,100,500] [--node-heap 3g] [--young 32m]
                  [--model-heap 3g] [--model-jar http-api/target/warmgate.jar]
                  --build     a checkout with http-api/target/warmgate.jar built (default: this one); repeat it to
                              compare builds side by side
                  --model-jar the demo model every build's node starts: one model for all, so the figures are the
                              node's (before streaming, the demo model refused strings over 8 MiB)""");
            System.exit(args[i].equals("--help") ? 0 : 2);
          }
        }
      }
      if (builds.isEmpty()) {
        builds.add(Path.of("").toAbsolutePath());
      }
      return new Options(builds, sizes, heap, young, modelHeap, model);
    }
  }

  private record Result(String outcome, long baseline, long peakUsed, long peakLive, double seconds) {}

  public static void main(String[] args) throws Exception {
    Options options = Options.parse(args);
    Report report = new Report("payload", "build", "input (MB)", "outcome", "baseline live (MiB)",
        "peak used (MiB)", "peak live (MiB)", "peak used - baseline (MiB)", "job (s)");
    for (long size : options.sizesMb()) {
      for (Path build : options.builds()) {
        Result r = run(build, size * 1_000_000L, options);
        System.err.printf("%s %d MB: %s%n", build.getFileName(), size, r);
        report.row(build.getFileName() + " (" + commit(build) + ")", size, r.outcome(), mib(r.baseline()),
            mib(r.peakUsed()), mib(r.peakLive()), mib(r.peakUsed() - r.baseline()), "%.1f".formatted(r.seconds()));
      }
    }
    report.note("Node: -Xmx" + options.heap() + " -Xmn" + options.young() + " -XX:+UseSerialGC "
        + "-XX:+ExitOnOutOfMemoryError; demo model -Xmx" + options.modelHeap() + " from " + options.model()
        + " for every build; H2 and a local bucket folder; "
        + "one job, a PNG padded to the size with private ancillary chunks plus a small mask, "
        + "max-input-bytes and max-job-input-bytes 2g. Heap from the node's GC log.");
    report.publish();
  }

  private static Result run(Path build, long bytes, Options options) throws Exception {
    Path dir = Files.createTempDirectory("warmgate-payload-");
    int httpPort = Ports.free();
    Path conf = dir.resolve("node.conf");
    Files.writeString(conf, """
        include classpath("application.conf")
        warmgate.data-dir = "%s"
        warmgate.http.port = %d
        pekko.remote.artery.canonical.port = %d
        warmgate.blob-store.local.watch-interval = 0s
        warmgate.endpoint-defaults.status-poll-interval = 200ms
        warmgate.endpoint-defaults.invoke-timeout = 10m
        warmgate.request.inputs-check-interval = 200ms
        warmgate.request.acquire-interval = 1s
        warmgate.request.attempt-timeout = 15m
        warmgate.endpoints.gen3d.max-input-bytes = 2g
        warmgate.endpoints.gen3d.max-job-input-bytes = 2g
        warmgate.endpoints.gen3d.process.port = %d
        warmgate.endpoints.gen3d.process.command = ["{java}", "-Xmx%s", "-XX:+UseSerialGC", "-cp", "%s",
          "warmgate.demo.DemoModelServer", "--host", "{host}", "--port", "{port}", "--startup-delay", "0s"]
        """.formatted(dir, httpPort, Ports.free(), Ports.free(), options.modelHeap(), options.model())
        + TestTokens.hocon());
    Path gcLog = dir.resolve("gc.log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process node = new ProcessBuilder(java, "-Xmx" + options.heap(), "-Xmn" + options.young(), "-XX:+UseSerialGC",
        "-XX:+ExitOnOutOfMemoryError", "-Xlog:gc:file=" + gcLog, "-Dconfig.file=" + conf,
        "-cp", build.resolve("http-api/target/warmgate.jar").toString(), "warmgate.node.Main", "serve")
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("node.log").toFile())
        .start();
    Api api = new Api(httpPort, TestTokens.ADMIN);
    try {
      await(Duration.ofMinutes(3), node, () -> {
        try {
          return api.get("/v1/endpoints/gen3d").status() == 200;
        } catch (RuntimeException notYet) {
          return false;
        }
      });
      Path bucket = dir.resolve("buckets/gen3d/manual");
      Files.createDirectories(bucket);
      Files.write(bucket.resolve("warm_image.png"), SampleImages.image(16));
      Files.write(bucket.resolve("warm_mask.png"), SampleImages.mask(16));
      String warm = submit(api, "warm");
      await(Duration.ofMinutes(3), node, () -> "SUCCEEDED".equals(api.status(warm)));
      PaddedPng.write(bucket.resolve("big_image.png"), 64, bytes);
      Files.write(bucket.resolve("big_mask.png"), SampleImages.mask(64));

      jcmd(node.pid(), "GC.run");
      String before = Files.readString(gcLog, StandardCharsets.UTF_8);
      long baseline = lastAfter(before);
      long start = System.nanoTime();
      String job = submit(api, "big");
      String outcome;
      try {
        await(Duration.ofMinutes(15), node, () -> {
          String status = api.status(job);
          return "SUCCEEDED".equals(status) || "FAILED".equals(status);
        });
        outcome = api.status(job);
        if ("FAILED".equals(outcome)) {
          outcome += ": " + api.get("/v1/jobs/" + job).body().path("error").asText();
        }
      } catch (IllegalStateException died) {
        outcome = Files.readString(dir.resolve("node.log")).contains("OutOfMemoryError")
            ? "node out of memory" : died.getMessage();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      // A small job may end before any collection: the heap as it stands then counts too (garbage included).
      long usedAtEnd = node.isAlive() ? heapUsed(jcmd(node.pid(), "GC.heap_info")) : 0;
      String during = Files.readString(gcLog, StandardCharsets.UTF_8).substring(before.length());
      long peakUsed = Math.max(baseline, usedAtEnd);
      long peakLive = baseline;
      Matcher m = GC.matcher(during);
      while (m.find()) {
        peakUsed = Math.max(peakUsed, bytes(m.group(1), m.group(2)));
        peakLive = Math.max(peakLive, bytes(m.group(3), m.group(4)));
      }
      return new Result(outcome, baseline, peakUsed, peakLive, seconds);
    } finally {
      node.destroy();
      if (!node.waitFor(30, TimeUnit.SECONDS)) {
        node.destroyForcibly();
      }
      ModelProcesses.killAll(dir.resolve("endpoints"));
      deleteBucket(dir.resolve("buckets"));
    }
  }

  private static String submit(Api api, String name) {
    Api.Response r = api.post("/v1/jobs", """
        {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/manual/%s_image.png","mask":"s3://gen3d/manual/%s_mask.png"},
         "output":"s3://gen3d/manual/out/%s.ply"}""".formatted(name, name, name));
    if (r.status() >= 300) {
      throw new IllegalStateException("POST /v1/jobs answered " + r.status() + ": " + r.body());
    }
    return r.body().path("jobId").asText();
  }

  private interface Check {
    boolean done() throws Exception;
  }

  private static void await(Duration max, Process node, Check check) throws Exception {
    long deadline = System.nanoTime() + max.toNanos();
    while (!check.done()) {
      if (!node.isAlive()) {
        throw new IllegalStateException("the node exited with " + node.exitValue());
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("not done within " + max);
      }
      Thread.sleep(200);
    }
  }

  private static String jcmd(long pid, String command) throws Exception {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    Process p = new ProcessBuilder(jcmd, Long.toString(pid), command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(60, TimeUnit.SECONDS);
    Thread.sleep(500); // the GC log is written asynchronously
    return out;
  }

  /** The serial collector's generations' "used" in {@code GC.heap_info}, added up. */
  private static long heapUsed(String heapInfo) {
    Matcher m = Pattern.compile("generation\\s+total \\d+K, used (\\d+)K").matcher(heapInfo);
    long used = 0;
    while (m.find()) {
      used += Long.parseLong(m.group(1)) << 10;
    }
    return used;
  }

  private static long lastAfter(String log) {
    Matcher m = GC.matcher(log);
    long last = 0;
    while (m.find()) {
      last = bytes(m.group(3), m.group(4));
    }
    return last;
  }

  private static long bytes(String value, String unit) {
    int shift = switch (unit) {
      case "K" -> 10;
      case "M" -> 20;
      default -> 30;
    };
    return Long.parseLong(value) << shift;
  }

  private static long mib(long bytes) {
    return bytes >> 20;
  }

  private static String commit(Path build) {
    try {
      Process p = new ProcessBuilder("git", "-C", build.toString(), "rev-parse", "--short=7", "HEAD").start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      p.waitFor();
      return out.isEmpty() ? "?" : out;
    } catch (IOException | InterruptedException e) {
      return "?";
    }
  }

  private static void deleteBucket(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }

  private PayloadBenchmark() {}
}
