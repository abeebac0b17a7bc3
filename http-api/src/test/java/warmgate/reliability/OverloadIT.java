package warmgate.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.demo.SampleImages;
import warmgate.e2e.ChildNode;
import warmgate.e2e.ModelProcesses;
import warmgate.e2e.Ports;
import warmgate.node.InProcessNode;

// One node as `warmgate serve` in a child JVM with a 256 MB heap (the embedded default: H2 file journal, local bucket
// folder, the demo model as a process endpoint), driven at ten times the rate it can finish jobs, through
// POST /v1/jobs and POST /v1/notifications/s3 at once. No PostgreSQL.
class OverloadIT {
  private static final String HEAP = "256m";
  private static final int SLOTS = 2;
  private static final int MAX_QUEUED = 50;
  private static final String INVOKE_DELAY = "50ms";
  /**
   * Jobs a capacity batch submits at once: fewer than MAX_QUEUED, so admission never refuses one, however slowly the
   * machine lets the batch in (100 did not: on a busy machine a batch outlasted the queue depth's freshness, and a
   * fresh sample refused its last jobs).
   */
  private static final int CAPACITY_JOBS = 40;
  private static final int WARM_UP_BATCHES = 2;
  private static final int OVERLOAD = 10;
  /** Requests the driver keeps open at once; beyond it, it waits (and says so) rather than pile up sockets. */
  private static final int MAX_OPEN_REQUESTS = 400;
  /** Distinct uploads the notifications name; each delivery gives its upload a new eTag, so a new job. */
  private static final int UPLOADS = 100;
  private static final Set<String> TERMINAL = Set.of("SUCCEEDED", "FAILED", "CANCELLED");

  @TempDir Path dataDir;
  private ChildNode node;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  enum Kind { JOB, NOTIFICATION }

  record Answer(Kind kind, int status, boolean retryAfter, List<String> jobIds, String failure) {}

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.close();
    }
    ModelProcesses.killAll(dataDir.resolve("endpoints"));
  }

  @Test
  void atTenTimesItsCapacityTheNodeAnswersOnly2xx429Or503WithRetryAfterStaysUpAndFinishesEveryJobItAccepted()
      throws Exception {
    ReliabilityScale scale = ReliabilityScale.current();
    Duration duration = scale.pick(Duration.ofSeconds(30), Duration.ofMinutes(10));
    int httpPort = Ports.free();
    Path conf = dataDir.resolve("node.conf");
    Files.writeString(conf, """
        include classpath("application.conf")
        warmgate.data-dir = "%s"
        warmgate.http.port = %d
        pekko.remote.artery.canonical.port = 0
        warmgate.blob-store.local.watch-interval = 0s
        warmgate.endpoint-defaults.status-poll-interval = 200ms
        warmgate.request.acquire-interval = 1s
        warmgate.endpoints.gen3d.max-concurrency = %d
        warmgate.endpoints.gen3d.max-queued = %d
        warmgate.endpoints.gen3d.idle-timeout = 30m
        warmgate.endpoints.gen3d.process.port = %d
        warmgate.endpoints.gen3d.process.command = ["{java}", "-Xmx128m", "-XX:+UseSerialGC", "-cp", "{classpath}",
          "warmgate.demo.DemoModelServer", "--host", "{host}", "--port", "{port}", "--startup-delay", "1s", \
        "--invoke-delay", "%s"]
        """.formatted(dataDir, httpPort, SLOTS, MAX_QUEUED, Ports.free(), INVOKE_DELAY) + TestTokens.hocon());
    Path input = dataDir.resolve("buckets/gen3d/users/o/input");
    Files.createDirectories(input);
    for (int i = 0; i < UPLOADS; i++) {
      Files.write(input.resolve("u" + i + "_image.png"), SampleImages.image(16));
      Files.write(input.resolve("u" + i + "_mask.png"), SampleImages.mask(16));
    }
    Path log = dataDir.resolve("node.log");
    Path gcLog = dataDir.resolve("gc.log");
    node = ChildNode.start(conf, httpPort, log, List.of("-Xmx" + HEAP, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-XX:+ExitOnOutOfMemoryError", "-Xlog:gc:file=" + gcLog));
    String base = "http://127.0.0.1:" + httpPort;

    // Warm, then measure what the node finishes per second with a backlog of CAPACITY_JOBS jobs.
    assertThat(node.api.post("/v1/endpoints/gen3d/start", "").status()).as(node.logTail()).isBetween(200, 299);
    InProcessNode.await(Duration.ofSeconds(60), () ->
        assertThat(node.api.get("/v1/endpoints/gen3d").body().path("state").asText()).isEqualTo("WARM"));
    // Each batch submitted at once, so the figure is what the node finishes, not how fast one client submits; the
    // first batches only warm the node up (JIT, connection pools), the last is timed.
    List<String> measured = new ArrayList<>();
    double capacity = 0;
    for (int batch = 0; batch <= WARM_UP_BATCHES; batch++) {
      List<java.util.concurrent.CompletableFuture<Answer>> submissions = new ArrayList<>();
      for (int i = 0; i < CAPACITY_JOBS; i++) {
        submissions.add(send(base, Kind.JOB, batch * CAPACITY_JOBS + i));
      }
      List<String> ids = new ArrayList<>();
      for (var submission : submissions) {
        Answer answer = submission.get();
        assertThat(answer.status()).as(answer.toString()).isEqualTo(202);
        ids.addAll(answer.jobIds());
      }
      InProcessNode.await(Duration.ofSeconds(120), () ->
          assertThat(views(base, ids)).allSatisfy(job ->
              assertThat(job.path("status").asText()).isEqualTo("SUCCEEDED")));
      // From the first job's end to the last one's, by the node's own clock: the pace of a backlog, not of the
      // submitting.
      List<java.time.Instant> ends = views(base,
          ids).stream().map(job -> java.time.Instant.parse(job.path("updatedAt").asText())).sorted().toList();
      capacity = (CAPACITY_JOBS - 1) / (Duration.between(ends.get(0), ends.get(ends.size() - 1)).toMillis() / 1000.0);
      measured.addAll(ids);
    }
    double rate = capacity * OVERLOAD;
    System.out.printf("OverloadIT: scale %s; capacity %.1f jobs/s (%d jobs, first end to last, after %d batches to "
        + "warm up); driving %.0f requests/s for %d s%n",
        scale, capacity, CAPACITY_JOBS, WARM_UP_BATCHES, rate, duration.toSeconds());

    // Ten times that, half jobs, half notifications, open loop at a fixed pace.
    ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
    Semaphore open = new Semaphore(MAX_OPEN_REQUESTS);
    AtomicLong waitedForOpenSlot = new AtomicLong();
    long intervalNanos = (long) (1e9 / rate);
    long start = System.nanoTime();
    long end = start + duration.toNanos();
    long sent = 0;
    for (long next = start; next < end; next += intervalNanos) {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      if (!open.tryAcquire()) {
        waitedForOpenSlot.incrementAndGet();
        open.acquire();
      }
      Kind kind = sent % 2 == 0 ? Kind.JOB : Kind.NOTIFICATION;
      send(base, kind, (WARM_UP_BATCHES + 1) * CAPACITY_JOBS + sent).whenComplete((answer, failure) -> {
        answers.add(failure == null ? answer : new Answer(kind, 0, false, List.of(), String.valueOf(failure)));
        open.release();
      });
      sent++;
    }
    open.acquire(MAX_OPEN_REQUESTS); // every answer is in
    double drove = sent / (Duration.ofNanos(System.nanoTime() - start).toMillis() / 1000.0);

    Map<String, Integer> byStatus = new TreeMap<>();
    List<String> accepted = new ArrayList<>(measured);
    List<Answer> wrong = new ArrayList<>();
    List<Answer> noRetryAfter = new ArrayList<>();
    for (Answer answer : answers) {
      byStatus.merge(answer.kind() + " " + (answer.status() == 0 ? "no answer" : answer.status()), 1, Integer::sum);
      if (answer.status() >= 200 && answer.status() < 300) {
        accepted.addAll(answer.jobIds());
      } else if (answer.status() == 429 || answer.status() == 503) {
        if (!answer.retryAfter()) {
          noRetryAfter.add(answer);
        }
      } else {
        wrong.add(answer);
      }
    }

    // After the load: every accepted job ends, and the node is still there.
    Map<String, String> listed = new HashMap<>();
    long drainStart = System.nanoTime();
    Duration drainLimit = Duration.ofSeconds(60).plusMillis((long) (accepted.size() / capacity * 2000));
    while (System.nanoTime() - drainStart < drainLimit.toNanos()) {
      listed = listJobs(base);
      Map<String, String> now = listed;
      if (accepted.stream().allMatch(id -> TERMINAL.contains(now.get(id)))) {
        break;
      }
      Thread.sleep(1000);
    }
    Map<String, String> finalListing = listed;
    List<String> neverFinished = accepted.stream().filter(id -> !TERMINAL.contains(finalListing.get(id))).toList();
    Map<String, Integer> outcomes = new TreeMap<>();
    accepted.forEach(id -> outcomes.merge(String.valueOf(finalListing.get(id)), 1, Integer::sum));
    String logText = node.logText();
    boolean alive = node.process.isAlive();
    System.out.printf("OverloadIT: sent %d (%.0f/s; the driver waited for an open request %d times), answers %s%n",
        sent, drove, waitedForOpenSlot.get(), byStatus);
    System.out.printf("OverloadIT: 2xx %d, 429 %d, 503 %d, other %d, 429/503 without Retry-After %d; accepted jobs %"
        + "d (incl. %d to measure), "
            + "outcomes %s, accepted-but-never-finished %d (drained in %d s); node alive %s, OutOfMemoryError in log"
                + " %s, heap %s%n",
        count(answers, 200, 299), count(answers, 429, 429), count(answers, 503, 503), wrong.size(),
            noRetryAfter.size(), accepted.size(),
        measured.size(), outcomes, neverFinished.size(), Duration.ofNanos(System.nanoTime() - drainStart).toSeconds(),
            alive,
        logText.contains("OutOfMemoryError"), heapSummary(gcLog));

    assertThat(wrong).as("answers other than 2xx, 429 and 503").isEmpty();
    assertThat(noRetryAfter).as("429 and 503 answers without Retry-After").isEmpty();
    assertThat(count(answers, 429, 429) + count(answers, 503, 503)).as("the node turned work away").isPositive();
    assertThat(alive).as("the node is alive: " + node.logTail()).isTrue();
    assertThat(logText).as("the node's log").doesNotContain("OutOfMemoryError");
    assertThat(neverFinished).as("accepted jobs that never finished").isEmpty();
  }

  private java.util.concurrent.CompletableFuture<Answer> send(String base, Kind kind, long n) {
    HttpRequest request = switch (kind) {
      case JOB -> HttpRequest.newBuilder(URI.create(base + "/v1/jobs"))
          .header("Content-Type", "application/json")
          .header("Authorization", "Bearer " + TestTokens.ADMIN)
          .timeout(Duration.ofSeconds(60))
          .POST(HttpRequest.BodyPublishers.ofString("""
              {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/users/o/input/u%1$d_image.png",\
              "mask":"s3://gen3d/users/o/input/u%1$d_mask.png"},
               "output":"s3://gen3d/users/o/output/job%2$d.ply"}""".formatted(n % UPLOADS, n)))
          .build();
      case NOTIFICATION -> HttpRequest.newBuilder(URI.create(base + "/v1/notifications/s3"))
          .header("Content-Type", "application/json")
          .header("Authorization", "Bearer " + TestTokens.ADMIN)
          .timeout(Duration.ofSeconds(60))
          .POST(HttpRequest.BodyPublishers.ofString("""
              {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
               "s3":{"bucket":{"name":"gen3d"},"object":{"key":"users/o/input/u%d_image.png","size":1,\
              "eTag":"%032x"}}}]}"""
              .formatted(n % UPLOADS, n)))
          .build();
    };
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(response -> {
      List<String> ids = new ArrayList<>();
      if (response.statusCode() >= 200 && response.statusCode() < 300) {
        JsonNode body = readJson(response.body());
        if (kind == Kind.JOB) {
          ids.add(body.path("jobId").asText());
        } else {
          body.path("accepted").forEach(a -> ids.add(a.path("jobId").asText()));
        }
      }
      return new Answer(kind, response.statusCode(), response.headers().firstValue("Retry-After").isPresent(), ids,
          null);
    });
  }

  /** Each job as it answers itself (not the read side, which lags), asked all at once. */
  private List<JsonNode> views(String base, List<String> jobIds) throws Exception {
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> asked = new ArrayList<>();
    for (String id : jobIds) {
      asked.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/v1/jobs/" + id))
          .header("Authorization", "Bearer " + TestTokens.ADMIN).timeout(Duration.ofSeconds(30)).build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    List<JsonNode> views = new ArrayList<>();
    for (var answer : asked) {
      HttpResponse<String> response = answer.get();
      views.add(response.statusCode() == 200 ? readJson(response.body())
          : Json.mapper().createObjectNode().put("status", "HTTP " + response.statusCode()));
    }
    return views;
  }

  private static JsonNode readJson(String body) {
    try {
      return Json.mapper().readTree(body);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("not JSON: " + body, e);
    }
  }

  private static long count(java.util.Collection<Answer> answers, int from, int to) {
    return answers.stream().filter(a -> a.status() >= from && a.status() <= to).count();
  }

  /** Every job the read side lists, by id, with its status. */
  private Map<String, String> listJobs(String base) throws Exception {
    Map<String, String> jobs = new ConcurrentHashMap<>();
    String cursor = null;
    do {
      String path = "/v1/jobs?limit=500" + (cursor == null ? "" : "&cursor=" + URLEncoder.encode(cursor,
          StandardCharsets.UTF_8));
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + path))
          .header("Authorization", "Bearer " + TestTokens.ADMIN).build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        return jobs; // asked again on the next round
      }
      JsonNode page = readJson(response.body());
      page.path("jobs").forEach(job -> jobs.put(job.path("jobId").asText(), job.path("status").asText()));
      JsonNode next = page.path("nextCursor");
      cursor = next.isNull() || next.isMissingNode() ? null : next.asText();
    } while (cursor != null);
    return jobs;
  }

  /**
   * From the node's GC log (-Xlog:gc): the most heap in use before a collection, the most left after a full
   * collection (the live set; a young collection leaves dead old objects behind), and the heap's size.
   */
  static String heapSummary(Path gcLog) throws java.io.IOException {
    if (!Files.exists(gcLog)) {
      return "(no GC log)";
    }
    Matcher m = Pattern.compile("Pause (Young|Full)[^\\n]*? (\\d+)M->(\\d+)M\\((\\d+)M\\)")
        .matcher(Files.readString(gcLog));
    long maxBefore = 0;
    long maxAfterFull = 0;
    long committed = 0;
    int collections = 0;
    int full = 0;
    while (m.find()) {
      collections++;
      maxBefore = Math.max(maxBefore, Long.parseLong(m.group(2)));
      if (m.group(1).equals("Full")) {
        full++;
        maxAfterFull = Math.max(maxAfterFull, Long.parseLong(m.group(3)));
      }
      committed = Math.max(committed, Long.parseLong(m.group(4)));
    }
    return "max used %d MB before a collection, max %d MB left after a full one; heap at most %d MB of -Xmx%s (%d "
        + "collections, %d full)"
        .formatted(maxBefore, maxAfterFull, committed, HEAP, collections, full);
  }
}
