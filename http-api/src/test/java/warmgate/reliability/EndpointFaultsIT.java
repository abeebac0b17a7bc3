package warmgate.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.config.EndpointSettings;
import warmgate.config.RequestSettings;
import warmgate.job.ObjectRef;
import warmgate.node.InProcessNode;

// One node in the test JVM (Main.init: H2 journal in a temporary folder, sharded entities, read side, real HTTP on
// loopback), an in-memory bucket, and an endpoint whose provider and model fail at seeded random the ways SageMaker
// does (FaultyProvider, FaultyModel). No PostgreSQL, no child process; an IT so `bench/run reliability long` runs it.
class EndpointFaultsIT {
  private static final int SLOTS = 6;
  private static final long SUBMIT_EVERY_MILLIS = 20;
  private static final Duration BURST = Duration.ofSeconds(20);
  /** Longer than idle-timeout, so the endpoint is stopped for idleness and started cold again. */
  private static final Duration PAUSE = Duration.ofSeconds(7);
  private static final Set<String> TERMINAL = Set.of("SUCCEEDED", "FAILED", "CANCELLED");

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** A job the test submitted and follows until it ends. */
  private static final class Tracked {
    final String id;
    Instant createdAt;
    Instant deadline;
    JsonNode last;
    boolean stuck;

    Tracked(String id) {
      this.id = id;
    }
  }

  static Map<String, Object> settings() {
    Map<String, Object> s = new HashMap<>();
    s.put("warmgate.endpoint-defaults.max-concurrency", SLOTS);
    s.put("warmgate.endpoint-defaults.idle-timeout", "5s");
    s.put("warmgate.endpoint-defaults.start-timeout", "2s");
    s.put("warmgate.endpoint-defaults.max-start-failures", 3);
    s.put("warmgate.endpoint-defaults.failed-retry-after", "2s");
    s.put("warmgate.endpoint-defaults.lease-ttl", "6s");
    s.put("warmgate.endpoint-defaults.status-poll-interval", "100ms");
    s.put("warmgate.endpoint-defaults.reconcile-interval", "500ms");
    s.put("warmgate.endpoint-defaults.invoke-timeout", "1s");
    s.put("warmgate.request.max-attempts", 4);
    s.put("warmgate.request.backoff-min", "200ms");
    s.put("warmgate.request.backoff-max", "2s");
    s.put("warmgate.request.acquire-interval", "300ms");
    s.put("warmgate.request.attempt-timeout", "3s");
    s.put("warmgate.request.passivate-after", "2s");
    return s;
  }

  @Test
  void underInjectedEndpointFaultsEveryJobEndsByItsDeadlineAndNoneIsLost(@TempDir Path dataDir) throws Exception {
    ReliabilityScale scale = ReliabilityScale.current();
    Duration duration = scale.pick(Duration.ofSeconds(45), Duration.ofMinutes(10));
    long seed = Long.getLong("warmgate.faults.seed", System.nanoTime());
    String context = "seed " + seed + " (rerun with -Dwarmgate.faults.seed=" + seed + "), scale " + scale;
    Random random = new Random(seed);

    var providerFaults = new FaultyProvider.Plan(0.5, 3, 0.2, 2, Duration.ofMillis(500), 0.3, Duration.ofSeconds(5));
    var modelFaults = new FaultyModel.Plan(0.08, 0.08, 0.04, 0.02, Duration.ofSeconds(1), Duration.ofMillis(30));
    AtomicReference<FaultyProvider> faultyProvider = new AtomicReference<>();
    AtomicReference<FaultyModel> faultyModel = new AtomicReference<>();
    Map<String, Object> settings = settings();
    var endpointConfig = com.typesafe.config.ConfigFactory.parseMap(settings)
        .withFallback(com.typesafe.config.ConfigFactory.parseResourcesAnySyntax("application"))
        .resolve().getConfig("warmgate");
    EndpointSettings endpoint = EndpointSettings.fromConfig(endpointConfig).get("gen3d");
    RequestSettings request = RequestSettings.fromConfig(endpointConfig);
    JobDeadline deadline = JobDeadline.of(endpoint, request, providerFaults, Duration.ofSeconds(1));
    // The deadline holds only if an endpoint that came back serves until every refused job has asked again.
    Duration refusedReturn = JobDeadline.refusedJobReturnsWithin(endpoint).plus(deadline.allowance());
    assertThat(providerFaults.healthyAtLeast()).as("healthy-at-least covers a refused job's return")
        .isGreaterThan(refusedReturn);
    assertThat(endpoint.idleTimeout()).as("idle-timeout covers a refused job's return").isGreaterThan(refusedReturn);
    System.out.println("EndpointFaultsIT: " + context + "; deadline per job " + deadline);

    // The node makes the provider's truth (a FakeProvider); the model reads it, the faulty provider wraps it.
    try (InProcessNode node = InProcessNode.start(dataDir, settings, truth -> {
          FaultyModel model = new FaultyModel(truth, modelFaults, random);
          faultyModel.set(model);
          FaultyProvider provider = new FaultyProvider(truth, providerFaults, random, model::invocations);
          faultyProvider.set(provider);
          return provider;
        }, (contentType, body) -> faultyModel.get().invoke(contentType, body));
        FaultyModel model = faultyModel.get()) {
      node.blobs.put(ObjectRef.parse("s3://gen3d/users/f/input/cup_image.png"), new byte[] {1});
      node.blobs.put(ObjectRef.parse("s3://gen3d/users/f/input/cup_mask.png"), new byte[] {2});

      Map<String, Tracked> open = new LinkedHashMap<>();
      List<Tracked> done = new ArrayList<>();
      int submitRetries = 0;
      long start = System.nanoTime();
      long end = start + duration.toNanos();
      int n = 0;
      while (System.nanoTime() < end || !open.isEmpty()) {
        long sinceStart = Duration.ofNanos(System.nanoTime() - start).toMillis();
        boolean inBurst = sinceStart % (BURST.toMillis() + PAUSE.toMillis()) < BURST.toMillis();
        // At most SLOTS jobs unfinished: a job never queues behind another, so its deadline does not depend on the
        // load.
        while (System.nanoTime() < end && inBurst && open.size() < SLOTS) {
          String key = "faults-" + seed + "-" + n++;
          String jobId = null;
          while (jobId == null) {
            HttpResponse<String> submitted = submit(node.base, key, n);
            if (submitted.statusCode() == 202) {
              jobId = Json.mapper().readTree(submitted.body()).path("jobId").asText();
            } else {
              // 503 (the journal did not confirm in time) is safe to repeat with the same Idempotency-Key.
              assertThat(submitted.statusCode()).as(context + ": " + submitted.body()).isEqualTo(503);
              submitRetries++;
              Thread.sleep(200);
            }
          }
          open.put(jobId, new Tracked(jobId));
        }
        follow(node.base, open, done, deadline.total());
        Thread.sleep(SUBMIT_EVERY_MILLIS);
      }

      Map<String, Integer> outcomes = new TreeMap<>();
      Map<String, Integer> failureReasons = new TreeMap<>();
      List<Integer> attempts = new ArrayList<>();
      List<Long> durations = new ArrayList<>();
      for (Tracked job : done) {
        String status = job.last.path("status").asText();
        outcomes.merge(status, 1, Integer::sum);
        attempts.add(job.last.path("attempts").asInt());
        durations.add(Duration.between(job.createdAt, Instant.parse(job.last.path("updatedAt").asText())).toMillis());
        if (status.equals("FAILED")) {
          String error = job.last.path("error").asText();
          failureReasons.merge(error.startsWith("gave up after") ? "gave up after " + request.maxAttempts()
              + " attempts" : error, 1, Integer::sum);
        }
      }
      List<String> stuck = done.stream().filter(t -> t.stuck).map(t -> t.id + " " + t.last).toList();
      attempts.sort(null);
      durations.sort(null);
      System.out.printf("EndpointFaultsIT: %s; ran %d s; jobs %d, outcomes %s, stuck past deadline %d, submissions "
          + "repeated after 503 %d%n",
          context, Duration.ofNanos(System.nanoTime() - start).toSeconds(), done.size(), outcomes, stuck.size(),
              submitRetries);
      System.out.printf("EndpointFaultsIT: attempts per job max %d, p99 %d, p50 %d; time to terminal max %d ms, p99 "
          + "%d ms, p50 %d ms; "
              + "deadline %d ms%n", attempts.get(attempts.size() - 1), Percentiles.nearestRank(attempts, 0.99),
                  Percentiles.nearestRank(attempts, 0.5),
          durations.get(durations.size() - 1), Percentiles.nearestRank(durations, 0.99),
              Percentiles.nearestRank(durations, 0.5), deadline.total().toMillis());
      System.out.println("EndpointFaultsIT: failure reasons " + failureReasons);
      System.out.println("EndpointFaultsIT: provider " + faultyProvider.get().counts());
      System.out.println("EndpointFaultsIT: model " + model.counts());

      assertThat(stuck).as(context + ": jobs not terminal by their deadline (" + deadline + ")").isEmpty();
      assertThat(outcomes.keySet()).as(context).isSubsetOf("SUCCEEDED", "FAILED");
      // Every job the node accepted is listed by the read side and terminal there too: none was lost.
      List<String> ids = done.stream().map(t -> t.id).toList();
      InProcessNode.await(Duration.ofSeconds(60), () -> {
        Map<String, String> listed = listJobs(node);
        assertThat(listed.keySet()).as(context + ": GET /v1/jobs").containsExactlyInAnyOrderElementsOf(ids);
        assertThat(listed.values()).as(context).allSatisfy(status -> assertThat(TERMINAL).contains(status));
      });

      assertThat(outcomes.getOrDefault("SUCCEEDED", 0)).as(context + ": jobs succeeded").isPositive();
      assertThat(attempts.get(attempts.size() - 1)).as(context
          + ": attempts of any job").isLessThanOrEqualTo(request.maxAttempts());
      for (Tracked job : done) {
        if (job.last.path("status").asText().equals("FAILED")) {
          assertThat(job.last.path("attempts").asInt()).as(context + ": a failed job used every attempt: "
              + job.last).isEqualTo(request.maxAttempts());
          assertThat(job.last.path("error").asText()).as(context + ": " + job.last).startsWith("gave up after "
              + request.maxAttempts() + " attempts");
        }
      }
      // The faults happened: the run is worth its numbers.
      assertThat(faultyProvider.get().counts()).as(context).containsKeys("came into service", "describe throttled",
          "failed while serving");
      assertThat(model.counts()).as(context).containsKeys("5xx", "throttled", "timeout");
    }
  }

  private HttpResponse<String> submit(String base, String idempotencyKey, int n) throws Exception {
    String body = """
        {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/users/f/input/cup_image.png",\
        "mask":"s3://gen3d/users/f/input/cup_mask.png"},
         "output":"s3://gen3d/users/f/output/cup-%d.ply"}""".formatted(n);
    return http.send(HttpRequest.newBuilder(URI.create(base + "/v1/jobs"))
        .header("Authorization", "Bearer " + TestTokens.ADMIN)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", idempotencyKey)
        .timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Every job the read side lists, by id, with its status. */
  private static Map<String, String> listJobs(InProcessNode node) throws Exception {
    Map<String, String> jobs = new HashMap<>();
    String cursor = null;
    do {
      String path = "/v1/jobs?limit=500" + (cursor == null ? "" : "&cursor=" + URLEncoder.encode(cursor,
          StandardCharsets.UTF_8));
      HttpResponse<String> response = node.send("GET", path, null, TestTokens.ADMIN);
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      JsonNode page = Json.mapper().readTree(response.body());
      page.path("jobs").forEach(job -> jobs.put(job.path("jobId").asText(), job.path("status").asText()));
      JsonNode next = page.path("nextCursor");
      cursor = next.isNull() || next.isMissingNode() ? null : next.asText();
    } while (cursor != null);
    return jobs;
  }

  /** Looks at every unfinished job once; moves the terminal ones to {@code done} and marks any past its deadline. */
  private void follow(String base, Map<String, Tracked> open, List<Tracked> done, Duration deadline) throws Exception {
    Map<Tracked, java.util.concurrent.CompletableFuture<HttpResponse<String>>> asked = new LinkedHashMap<>();
    for (Tracked job : open.values()) {
      asked.put(job, http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/v1/jobs/" + job.id))
          .header("Authorization", "Bearer " + TestTokens.ADMIN).timeout(Duration.ofSeconds(30)).build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    for (var entry : asked.entrySet()) {
      Tracked job = entry.getKey();
      HttpResponse<String> response = entry.getValue().get();
      if (response.statusCode() != 200) {
        continue; // asked again on the next round; a lost job shows as one never terminal, past its deadline
      }
      job.last = Json.mapper().readTree(response.body());
      if (job.createdAt == null) {
        job.createdAt = Instant.parse(job.last.path("createdAt").asText());
        job.deadline = job.createdAt.plus(deadline);
      }
      boolean terminal = TERMINAL.contains(job.last.path("status").asText());
      if (terminal) {
        job.stuck = Instant.parse(job.last.path("updatedAt").asText()).isAfter(job.deadline);
      } else if (Instant.now().isAfter(job.deadline)) {
        job.stuck = true;
      } else {
        continue;
      }
      open.remove(job.id);
      done.add(job);
    }
  }
}
