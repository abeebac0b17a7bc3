package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.demo.SampleImages;
import warmgate.job.JobIds;

// Real processes: Warmgate in a child JVM on the H2 file journal, demo models taking 100 ms a request, one slot per
// endpoint, so the order in which jobs start is the order the queue handed out its slot; one node is killed with
// SIGKILL and restarted on the same folder. Every assertion is on the order of the jobs' events, never on durations.
class FairShareIT {
  /** Floods the endpoint. */
  private static final String ANN = "ann";
  /** Comes after the flood with a few jobs. */
  private static final String BEN = "ben";
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(90);

  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dataDir; // a failed run keeps the node's log
  private ChildNode node;
  private int httpPort;

  /**
   * @param name owner, priority and number, e.g. {@code ann/batch/3}, for the assertions' messages
   * @param output the key of its result in bucket gen3d
   */
  private record Job(String id, String owner, String name, String output) {
    @Override
    public String toString() {
      return name;
    }
  }

  /**
   * What a job's events say.
   *
   * @param queued its first {@code JobQueued}
   * @param started its last {@code AttemptStarted} (a job whose attempt a crash interrupted has two)
   */
  private record Run(Job job, Instant queued, Instant started, List<String> types) {
    long count(String type) {
      return types.stream().filter(type::equals).count();
    }
  }

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.close();
    }
    ModelProcesses.killAll(dataDir.resolve("endpoints"));
  }

  @Test
  void anOwnersJobsTakeTurnsWithAFloodUnderFairShareButWaitBehindItUnderFifo() throws Exception {
    node = startNode("");
    warm("gen3d");
    warm("gen3d-fifo");

    // The same submissions to both endpoints: ann's flood first, then, once every job of hers is queued, ben's few.
    List<Job> fair = new ArrayList<>();
    List<Job> fifo = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      fair.add(submit("gen3d", ANN, "interactive", i));
      fifo.add(submit("gen3d-fifo", ANN, "interactive", i));
    }
    awaitQueued(fair);
    awaitQueued(fifo);
    for (int i = 0; i < 5; i++) {
      fair.add(submit("gen3d", BEN, "interactive", i));
      fifo.add(submit("gen3d-fifo", BEN, "interactive", i));
    }
    awaitSucceeded("gen3d", fair.size());
    awaitSucceeded("gen3d-fifo", fifo.size());

    List<Run> fairOrder = startOrder(fair);
    List<Run> fifoOrder = startOrder(fifo);
    String fairOwners = owners(fairOrder);
    String fifoOwners = owners(fifoOrder);
    assertThat(annStartsBetweenBensJobs(fairOrder)).as("fair share: ann's starts between two of ben's, in %s",
        fairOwners).hasSize(4).allMatch(n -> n <= 2);
    Run bensFirst = fairOrder.stream().filter(r -> r.job().owner().equals(BEN)).findFirst().orElseThrow();
    assertThat(fairOrder.stream().filter(r -> r.job().owner().equals(ANN)
        && r.started().isAfter(bensFirst.queued()) && r.started().isBefore(bensFirst.started())).count())
        .as("fair share: ann's jobs started after ben's first was queued and before it started, in %s", fairOwners)
        .isLessThanOrEqualTo(2);
    assertThat(fairOwners).as("fair share: ben's five jobs take turns with ann's, at most two of hers between two of "
        + "his, and are done while her flood still waits").matches("a*(ba{0,2}){4}ba+");
    assertThat(fifoOwners).as("fifo: the same submissions, ben's jobs after all of ann's")
        .isEqualTo("a".repeat(60) + "b".repeat(5));
    for (Run run : fairOrder) {
      assertThat(run.types()).as("job %s", run.job()).containsExactly("JobSubmitted", "JobQueued", "AttemptStarted",
          "JobSucceeded");
    }
  }

  @Test
  void theSharesGoOnAfterTheNodeIsKilledWhileBothOwnersHaveJobsQueuedAndEveryJobSucceedsOnce() throws Exception {
    // Queued jobs park after a second: after the kill no job is in memory, and the queue is rebuilt from the index.
    node = startNode("warmgate.request.park-after = 1s\n");
    warm("gen3d");
    List<Job> jobs = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      jobs.add(submit("gen3d", ANN, "interactive", i));
    }
    awaitQueued(jobs);
    // Enough of ben's that several are still queued at the kill however far the loaded machine gets meanwhile: his
    // jobs take every other slot, so a few seconds between the check below and the kill run a dozen of them.
    for (int i = 0; i < 30; i++) {
      jobs.add(submit("gen3d", BEN, "interactive", i));
    }
    Await.until(RUN_TIMEOUT, "two of ben's jobs to succeed while queued jobs are parked",
        () -> succeeded("gen3d", BEN) >= 2 && node.api.get("/v1/endpoints/gen3d").body().path("parked").asInt() > 0);
    JsonNode before = node.api.get("/v1/endpoints/gen3d").body();
    assertThat(queuedBy(before, ANN)).as("ann has jobs queued when the node dies: %s", before).isPositive();
    assertThat(queuedBy(before, BEN)).as("ben has jobs queued when the node dies: %s", before).isPositive();
    Instant killedAt = Instant.now();

    node.kill9();
    node = ChildNode.start(dataDir.resolve("node.conf"), httpPort, dataDir.resolve("node.log"));

    awaitSucceeded("gen3d", jobs.size());
    List<Run> order = startOrder(jobs);
    for (Run run : order) {
      assertThat(run.count("JobSucceeded")).as("job %s succeeded once: %s", run.job(), run.types()).isEqualTo(1);
      assertThat(run.types()).as("job %s", run.job()).startsWith("JobSubmitted", "JobQueued").endsWith(
          "JobSucceeded");
      assertThat(dataDir.resolve("buckets/gen3d").resolve(run.job().output())).exists();
    }
    List<Run> afterRestart = order.stream().filter(r -> r.started().isAfter(killedAt)).toList();
    String owners = owners(afterRestart);
    assertThat(owners.chars().filter(c -> c == 'b').count()).as("ben's jobs started after the restart, in %s", owners)
        .isGreaterThanOrEqualTo(3);
    assertThat(annStartsBetweenBensJobs(afterRestart)).as("after the restart, ann's starts between two of ben's, in %s",
        owners).allMatch(n -> n <= 2);
    assertThat(owners.indexOf('b')).as("ann's starts after the restart before ben's first, in %s", owners)
        .isLessThanOrEqualTo(2);
  }

  @Test
  void anOwnerAtItsQueueQuotaIsRefusedWithRetryAfterWhileAnotherOwnerIsAccepted() throws Exception {
    // Its model takes ten minutes to load: every job stays queued.
    node = startNode("""
        warmgate.endpoints.quota.queue.owners.ann.max-queued = 3
        """);
    for (int i = 0; i < 3; i++) {
      submit("quota", ANN, "interactive", i);
    }
    Await.until(RUN_TIMEOUT, "ann's three jobs to wait at the endpoint",
        () -> queuedBy(node.api.get("/v1/endpoints/quota").body(), ANN) == 3);
    // The edge reads the endpoint's counts at most every queue-check-interval (100 ms here): let the count it holds
    // be one read after ann's third job was queued.
    Thread.sleep(500);

    HttpResponse<String> refused = post(job("quota", ANN, "interactive", 3), "ann-4");

    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(429);
    JsonNode error = Json.mapper().readTree(refused.body()).path("error");
    assertThat(error.path("code").asText()).isEqualTo("owner_quota_exceeded");
    assertThat(error.path("message").asText()).contains("ann", "quota");
    assertThat(refused.headers().firstValue("Retry-After")).as("Retry-After").hasValueSatisfying(
        seconds -> assertThat(Long.parseLong(seconds)).isPositive());
    assertThat(node.api.get("/v1/jobs/" + JobIds.forIdempotencyKey(ANN, "ann-4")).status())
        .as("the refused job was never accepted").isEqualTo(404);

    HttpResponse<String> accepted = post(job("quota", BEN, "interactive", 0), "ben-1");

    assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
    Await.until(RUN_TIMEOUT, "ben's job to wait at the endpoint too",
        () -> queuedBy(node.api.get("/v1/endpoints/quota").body(), BEN) == 1);
    assertThat(queuedBy(node.api.get("/v1/endpoints/quota").body(), ANN)).isEqualTo(3);
  }

  @Test
  void anInteractiveJobGoesBeforeTheSameOwnersBatchJobsThatWereQueuedBeforeIt() throws Exception {
    node = startNode("");
    List<Job> batch = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      batch.add(submit("priority", ANN, "batch", i));
    }
    Job interactive = submit("priority", ANN, "interactive", 6);
    // The endpoint's model loads for 4 s: every job is queued before the first slot is given.
    Await.until(RUN_TIMEOUT, "all seven jobs to wait for the starting endpoint",
        () -> node.api.get("/v1/endpoints/priority").body().path("queued").asInt() == 7);
    assertThat(node.api.get("/v1/endpoints/priority").body().path("state").asText())
        .as("precondition: no slot was given yet").isEqualTo("STARTING");
    awaitSucceeded("priority", 7);

    List<Job> all = new ArrayList<>(batch);
    all.add(interactive);
    List<Run> order = startOrder(all);
    assertThat(order.get(0).job()).as("the first job to start, of %s", order.stream().map(Run::job).toList())
        .isEqualTo(interactive);
    assertThat(order.get(0).queued()).as("the interactive job was queued last").isAfter(
        order.stream().skip(1).map(Run::queued).max(Comparator.naturalOrder()).orElseThrow());
  }

  /** A node with four endpoints of one slot each; {@code extra} is HOCON appended to its configuration. */
  private ChildNode startNode(String extra) throws Exception {
    Path input = dataDir.resolve("buckets/gen3d/manual/in");
    TestNode.upload(input.resolve("image.png"), SampleImages.image(16));
    TestNode.upload(input.resolve("mask.png"), SampleImages.mask(16));
    httpPort = Ports.free();
    Path conf = dataDir.resolve("node.conf");
    Files.writeString(conf, """
        include classpath("application.conf")
        warmgate.data-dir = "%s"
        warmgate.http.port = %d
        pekko.remote.artery.canonical.port = %d
        warmgate.blob-store.local.watch-interval = 0s
        warmgate.http.queue-check-interval = 100ms
        warmgate.request.acquire-interval = 1s
        warmgate.endpoint-defaults.status-poll-interval = 200ms
        warmgate.endpoint-defaults.max-concurrency = 1
        warmgate.endpoints {
          gen3d.process { port = %d, command = %s }
          gen3d-fifo { queue.policy = fifo, process { port = %d, command = %s } }
          quota.process { port = %d, command = %s }
          priority {
            queue.priority-ageing = 10m
            process { port = %d, command = %s }
          }
        }
        """.formatted(dataDir, httpPort, Ports.free(), Ports.free(), model("1s"), Ports.free(), model("1s"),
        Ports.free(), model("10m"), Ports.free(), model("4s")) + extra + TestTokens.hocon());
    return ChildNode.start(conf, httpPort, dataDir.resolve("node.log"));
  }

  /** The demo model, 100 ms per request: long enough that jobs wait for the one slot. */
  private static String model(String startupDelay) {
    return List.of("{java}", "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", "{classpath}",
        "warmgate.demo.DemoModelServer", "--host", "{host}", "--port", "{port}", "--startup-delay", startupDelay,
        "--invoke-delay", "100ms").stream().map(s -> "\"" + s + "\"").collect(Collectors.joining(", ", "[", "]"));
  }

  /** Starts the endpoint by hand and waits until it serves, so a flood meets a warm endpoint. */
  private void warm(String endpoint) {
    assertThat(node.api.post("/v1/endpoints/" + endpoint + "/start", "").status()).isEqualTo(202);
    Await.until(RUN_TIMEOUT, endpoint + " to be warm",
        () -> "WARM".equals(node.api.get("/v1/endpoints/" + endpoint).body().path("state").asText()));
  }

  private static String job(String endpoint, String owner, String priority, int n) {
    return """
        {"endpoint":"%s","owner":"%s","priority":"%s",
         "inputs":{"image":"s3://gen3d/manual/in/image.png","mask":"s3://gen3d/manual/in/mask.png"},
         "output":"s3://gen3d/%s"}""".formatted(endpoint, owner, priority, output(endpoint, owner, n));
  }

  private static String output(String endpoint, String owner, int n) {
    return "manual/out/" + endpoint + "/" + owner + "/" + n + ".ply";
  }

  private Job submit(String endpoint, String owner, String priority, int n) {
    Api.Response r = node.api.post("/v1/jobs", job(endpoint, owner, priority, n));
    assertThat(r.status()).as("%s", r.body()).isEqualTo(202);
    return new Job(r.body().path("jobId").asText(), owner, owner + "/" + priority + "/" + n, output(endpoint, owner,
        n));
  }

  /** POST /v1/jobs as the admin, for the answer's headers. */
  private HttpResponse<String> post(String body, String idempotencyKey) throws Exception {
    URI jobs = URI.create("http://127.0.0.1:" + httpPort + "/v1/jobs");
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(jobs)
        .header("Authorization", "Bearer " + TestTokens.ADMIN)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", idempotencyKey)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Until every job has been queued with its endpoint (or gone further). */
  private void awaitQueued(List<Job> jobs) {
    Await.until(RUN_TIMEOUT, "every job to be queued", () -> jobs.stream().allMatch(j -> List.of("QUEUED", "RUNNING",
        "SUCCEEDED").contains(node.api.status(j.id()))));
  }

  private void awaitSucceeded(String endpoint, int jobs) {
    Await.until(RUN_TIMEOUT, jobs + " jobs of " + endpoint + " to succeed (log: " + node.log + ")",
        () -> succeeded(endpoint, null) == jobs);
  }

  /** From the job index. */
  private int succeeded(String endpoint, String owner) {
    Api.Response listed = node.api.get("/v1/jobs?status=SUCCEEDED&limit=500&endpoint=" + endpoint
        + (owner == null ? "" : "&owner=" + owner));
    return listed.status() == 200 ? listed.body().path("jobs").size() : -1;
  }

  private static int queuedBy(JsonNode endpointView, String owner) {
    for (JsonNode load : endpointView.path("owners")) {
      if (load.path("owner").asText().equals(owner)) {
        return load.path("queued").asInt();
      }
    }
    return 0;
  }

  /** The jobs in the order their (last) attempt started. */
  private List<Run> startOrder(List<Job> jobs) {
    List<Run> runs = new ArrayList<>();
    for (Job job : jobs) {
      Instant queued = null;
      Instant started = null;
      List<String> types = new ArrayList<>();
      for (JsonNode e : node.api.get("/v1/jobs/" + job.id() + "/events").body().path("events")) {
        String type = e.path("type").asText();
        types.add(type);
        if (type.equals("JobQueued") && queued == null) {
          queued = at(e);
        } else if (type.equals("AttemptStarted")) {
          started = at(e);
        }
      }
      assertThat(started).as("job %s started: %s", job, types).isNotNull();
      runs.add(new Run(job, queued, started, types));
    }
    runs.sort(Comparator.comparing(Run::started));
    return runs;
  }

  private static Instant at(JsonNode event) {
    JsonNode at = event.path("data").path("at");
    return Instant.parse(at.isTextual() ? at.asText() : event.path("timestamp").asText());
  }

  /** The owners in start order, one letter a job: {@code aabab...}. */
  private static String owners(List<Run> order) {
    return order.stream().map(r -> r.job().owner().substring(0, 1)).collect(Collectors.joining());
  }

  /** How many of ann's jobs started between each two of ben's. */
  private static List<Integer> annStartsBetweenBensJobs(List<Run> order) {
    List<Integer> gaps = new ArrayList<>();
    int anns = -1; // before ben's first job: not a gap between two of his
    for (Run run : order) {
      if (run.job().owner().equals(BEN)) {
        if (anns >= 0) {
          gaps.add(anns);
        }
        anns = 0;
      } else if (anns >= 0) {
        anns++;
      }
    }
    return gaps;
  }
}
