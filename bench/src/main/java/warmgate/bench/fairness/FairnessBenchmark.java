package warmgate.bench.fairness;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.bench.Report;
import warmgate.bench.fairness.Fairness.Job;
import warmgate.bench.fairness.Fairness.Run;
import warmgate.bench.fairness.Fairness.Spread;
import warmgate.bench.fairness.Fairness.Window;
import warmgate.e2e.Folders;
import warmgate.e2e.Postgres;
import warmgate.job.ObjectRef;
import warmgate.node.InProcessNode;
import warmgate.provider.InferenceClient;
import warmgate.provider.InferenceClient.InferenceResponse;
import warmgate.provider.ProviderState.Status;

/**
 * Fair share (docs/benchmarks.md, section 8): one in-process node with two endpoints of the same slots and the same
 * model (it answers after a fixed service time), one with {@code queue.policy = fair}, one with {@code fifo}, fed the
 * same load at the same time through {@code POST /v1/jobs} with an admin token naming each job's owner: owner
 * {@code a} submits its whole batch at once, the small owners theirs evenly over the minutes the batch takes. Queue
 * waits and slot time come from the jobs' own events ({@code GET /v1/audit/events}: JobQueued, AttemptStarted and
 * what ended each attempt), not from this program's clock.
 */
public final class FairnessBenchmark {
  private static final String HELP = """
      usage: bench/run fairness [--batch N] [--small N] [--small-owners N] [--spread S] [--slots N]
                                [--service-ms N] [--window S] [--journal h2|postgres] [--warmup N]
                                [--concurrency N] [--quick]
        --batch N         jobs owner a submits at once, to each endpoint (default 10000)
        --small N         jobs each small owner (b, c, ...) submits to each endpoint, evenly spread (default 20)
        --small-owners N  how many small owners (default 4: b, c, d, e)
        --spread S        seconds over which the small owners' jobs are spread, from 2 s after a's first
                          submission (default 60, inside the ~65 s a's batch takes at 8 slots x 50 ms)
        --slots N         max-concurrency of each endpoint (default 8)
        --service-ms N    how long the model takes to answer each invocation (default 50)
        --window S        width of the windows Jain's index is taken over (default 10)
        --journal J       h2 (a file in a temporary folder) or postgres (a fresh database, dropped after; default h2)
        --warmup N        jobs of owner "warmup" run through each endpoint first, not counted (default 2000)
        --concurrency N   a's submissions in flight at once (default 64)
        --quick           --batch 1000 --small 5 --spread 5 --warmup 200""";
  private static final String BUCKET = "gen3d";
  private static final List<String> POLICIES = List.of("fair", "fifo");

  private record Options(int batch, int small, int smallOwners, int spread, int slots, int serviceMs, int window,
      String journal, int warmup, int concurrency) {
    static Options parse(String[] args) {
      int batch = 10_000;
      int small = 20;
      int smallOwners = 4;
      int spread = 60;
      int slots = 8;
      int serviceMs = 50;
      int window = 10;
      String journal = "h2";
      int warmup = 2_000;
      int concurrency = 64;
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--batch" -> batch = Integer.parseInt(args[++i]);
          case "--small" -> small = Integer.parseInt(args[++i]);
          case "--small-owners" -> smallOwners = Integer.parseInt(args[++i]);
          case "--spread" -> spread = Integer.parseInt(args[++i]);
          case "--slots" -> slots = Integer.parseInt(args[++i]);
          case "--service-ms" -> serviceMs = Integer.parseInt(args[++i]);
          case "--window" -> window = Integer.parseInt(args[++i]);
          case "--journal" -> journal = args[++i];
          case "--warmup" -> warmup = Integer.parseInt(args[++i]);
          case "--concurrency" -> concurrency = Integer.parseInt(args[++i]);
          case "--quick" -> {
            batch = 1_000;
            small = 5;
            spread = 5;
            warmup = 200;
          }
          case "-h", "--help" -> {
            System.out.println(HELP);
            System.exit(0);
          }
          default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--help)");
        }
      }
      if (!journal.equals("h2") && !journal.equals("postgres")) {
        throw new IllegalArgumentException("--journal is h2 or postgres, not " + journal);
      }
      return new Options(batch, small, smallOwners, spread, slots, serviceMs, window, journal, warmup, concurrency);
    }

    List<String> smallOwnerNames() {
      List<String> names = new ArrayList<>();
      for (int k = 0; k < smallOwners; k++) {
        names.add(String.valueOf((char) ('b' + k)));
      }
      return names;
    }
  }

  public static void main(String[] args) throws Exception {
    System.setProperty("logback.configurationFile", System.getProperty("warmgate.bench.logback", "logback.xml"));
    Options o = Options.parse(args);
    Path dir = Files.createTempDirectory("warmgate-bench-fairness");
    ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);
    Postgres postgres = o.journal().equals("postgres") ? new Postgres() : null;
    InProcessNode node = null;
    try {
      node = start(o, dir, postgres, timer);
      Load load = new Load(node, o, timer);
      load.warmUp();
      Instant from = Instant.now();
      load.run();
      Instant to = Instant.now().plusSeconds(1);
      Map<String, List<Job>> jobs = readEvents(node, from, to);
      publish(o, jobs, from, to);
    } finally {
      if (node != null) {
        try {
          node.close();
        } catch (java.util.concurrent.CompletionException e) {
          // The results are out; a node still busy with its read side may take longer than InProcessNode waits.
          System.err.println("the node did not stop within 30 s: " + e.getCause());
        }
      }
      timer.shutdownNow();
      if (postgres != null) {
        postgres.close();
      }
      try {
        Folders.deleteTree(dir);
      } catch (IOException e) {
        System.err.println("could not delete " + dir + ": " + e);
      }
    }
  }

  /** The node: Warmgate's defaults, two endpoints alike but for the queue's policy, a model of fixed latency. */
  private static InProcessNode start(Options o, Path dir, Postgres postgres, ScheduledExecutorService timer) {
    Map<String, Object> s = new HashMap<>();
    // InProcessNode's quick test defaults, back to Warmgate's own.
    s.put("warmgate.endpoint-defaults.status-poll-interval", "1s");
    s.put("warmgate.request.inputs-check-interval", "2s");
    s.put("warmgate.request.acquire-interval", "5s");
    s.put("pekko.logger-startup-timeout", "30s");
    int perEndpoint = o.batch() + o.small() * o.smallOwners() + o.warmup();
    for (String policy : POLICIES) {
      String e = "warmgate.endpoints." + policy + ".";
      s.put(e + "max-concurrency", o.slots());
      s.put(e + "queue.policy", policy);
      // Owner a's batch arrives at once: the endpoint's queue and the owner's quota (5000 by default) must hold it.
      s.put(e + "max-queued", Math.max(10_000, perEndpoint));
      s.put(e + "queue.owner-defaults.max-queued", Math.max(5_000, perEndpoint));
      s.put(e + "idle-timeout", "30m");
      s.put(e + "buckets", List.of(BUCKET));
      // Never started (the node's model is the one below), but two endpoints may not name the same port.
      s.put(e + "process.port", 18081 + POLICIES.indexOf(policy));
    }
    if (postgres != null) {
      s.put("warmgate.database.url", postgres.url);
      s.put("warmgate.database.user", Postgres.USER);
      s.put("warmgate.database.password", "");
    }
    byte[] ply = "ply\n".getBytes(StandardCharsets.US_ASCII);
    InferenceClient model = (contentType, body) -> {
      CompletableFuture<InferenceResponse> answer = new CompletableFuture<>();
      timer.schedule(() -> answer.complete(new InferenceResponse(ply, "application/octet-stream")), o.serviceMs(),
          TimeUnit.MILLISECONDS);
      return answer;
    };
    InProcessNode node = InProcessNode.start(dir, s, fake -> fake, model);
    node.provider.set(Status.IN_SERVICE);
    node.blobs.put(new ObjectRef(BUCKET, "bench/image.png"), new byte[] {1, 2, 3});
    node.blobs.put(new ObjectRef(BUCKET, "bench/mask.png"), new byte[] {4, 5, 6});
    return node;
  }

  /** Submissions over HTTP, as clients would send them. */
  private static final class Load {
    private static final Pattern SUCCEEDED = Pattern.compile(
        "warmgate_job_transitions_total\\{endpoint=\"(\\w+)\",status=\"SUCCEEDED\"} (\\S+)");
    private final InProcessNode node;
    private final Options o;
    private final ScheduledExecutorService timer;
    private final HttpClient http = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "fairness-http");
      t.setDaemon(true);
      return t;
    })).build();
    private final AtomicReference<String> failure = new AtomicReference<>();
    private final Map<String, Integer> submitted = new ConcurrentHashMap<>();

    Load(InProcessNode node, Options o, ScheduledExecutorService timer) {
      this.node = node;
      this.o = o;
      this.timer = timer;
    }

    void warmUp() throws Exception {
      for (String policy : POLICIES) {
        HttpResponse<String> r = node.send("POST", "/v1/endpoints/" + policy + "/start", null, TestTokens.ADMIN);
        if (r.statusCode() != 202) {
          throw new IllegalStateException("start " + policy + ": " + r.statusCode() + " " + r.body());
        }
      }
      await(Duration.ofMinutes(2), "both endpoints warm", () -> POLICIES.stream().allMatch(p -> state(p).equals(
          "WARM")));
      if (o.warmup() > 0) {
        submitBurst("warmup", o.warmup());
        awaitAllSucceeded();
        System.err.printf("warm-up: %d jobs through each endpoint%n", o.warmup());
      }
    }

    /** Owner a's batch at once, the small owners' jobs evenly over the spread, both endpoints alike. */
    void run() throws Exception {
      List<String> smalls = o.smallOwnerNames();
      List<CompletableFuture<?>> scheduled = new ArrayList<>();
      long t0 = System.nanoTime();
      for (int k = 0; k < smalls.size(); k++) {
        for (int j = 0; j < o.small(); j++) {
          // Owner k's j-th job; the owners staggered within each step so their jobs never arrive together.
          double at = 2.0 + o.spread() * (j + (k + 1.0) / (smalls.size() + 1)) / o.small();
          String owner = smalls.get(k);
          CompletableFuture<Void> done = new CompletableFuture<>();
          scheduled.add(done);
          timer.schedule(() -> {
            List<CompletableFuture<?>> both = new ArrayList<>();
            for (String policy : POLICIES) {
              both.add(submit(policy, owner));
            }
            CompletableFuture.allOf(both.toArray(CompletableFuture[]::new)).whenComplete((x, e) -> done.complete(null));
          }, t0 + (long) (at * 1e9) - System.nanoTime(), TimeUnit.NANOSECONDS);
        }
      }
      long burst = System.nanoTime();
      submitBurst("a", o.batch());
      System.err.printf("owner a: %d jobs to each endpoint submitted in %.1f s%n", o.batch(),
          (System.nanoTime() - burst) / 1e9);
      CompletableFuture.allOf(scheduled.toArray(CompletableFuture[]::new)).get(o.spread() + 600L, TimeUnit.SECONDS);
      awaitAllSucceeded();
      System.err.printf("every job succeeded, %.1f s after the first submission%n", (System.nanoTime() - t0) / 1e9);
    }

    private void submitBurst(String owner, int count) throws Exception {
      Semaphore inFlight = new Semaphore(o.concurrency());
      for (int i = 0; i < count && failure.get() == null; i++) {
        for (String policy : POLICIES) {
          inFlight.acquire();
          submit(policy, owner).whenComplete((x, e) -> inFlight.release());
        }
      }
      inFlight.acquire(o.concurrency());
      inFlight.release(o.concurrency());
      if (failure.get() != null) {
        throw new IllegalStateException("a submission failed: " + failure.get());
      }
    }

    private CompletableFuture<HttpResponse<String>> submit(String policy, String owner) {
      int n = submitted.merge(policy + "/" + owner, 1, Integer::sum);
      String key = policy + "-" + owner + "-" + n;
      String body = """
          {"endpoint":"%s","owner":"%s","inputs":{"image":"s3://%s/bench/image.png","mask":"s3://%s/bench/mask.png"},\
          "output":"s3://%s/bench/out/%s.ply"}""".formatted(policy, owner, BUCKET, BUCKET, BUCKET, key);
      HttpRequest request = HttpRequest.newBuilder(URI.create(node.base + "/v1/jobs"))
          .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + TestTokens.ADMIN)
          .header("Content-Type", "application/json").header("Idempotency-Key", key)
          .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build();
      return send(request, 10).whenComplete((r, e) -> {
        if (e != null) {
          failure.compareAndSet(null, e.toString());
        } else if (r.statusCode() != 202 && r.statusCode() != 200) {
          failure.compareAndSet(null, r.statusCode() + " " + r.body());
        }
      });
    }

    /** Sends again after a 429 (after its Retry-After) or a 503 (after a second), with the same Idempotency-Key. */
    private CompletableFuture<HttpResponse<String>> send(HttpRequest request, int triesLeft) {
      return http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenCompose(r -> {
        if ((r.statusCode() == 429 || r.statusCode() == 503) && triesLeft > 1) {
          long wait = r.headers().firstValueAsLong("Retry-After").orElse(1);
          return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(wait, TimeUnit.SECONDS))
              .thenCompose(x -> send(request, triesLeft - 1));
        }
        return CompletableFuture.completedFuture(r);
      });
    }

    private void awaitAllSucceeded() throws Exception {
      await(Duration.ofMinutes(30), "every job submitted SUCCEEDED", () -> {
        if (failure.get() != null) {
          throw new IllegalStateException("a submission failed: " + failure.get());
        }
        Map<String, Double> succeeded = new HashMap<>();
        Matcher m = SUCCEEDED.matcher(node.node.metrics().scrapeText());
        while (m.find()) {
          succeeded.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        return POLICIES.stream().allMatch(p -> succeeded.getOrDefault(p, 0.0) >= submittedTo(p));
      });
    }

    private int submittedTo(String policy) {
      return submitted.entrySet().stream().filter(e -> e.getKey().startsWith(policy + "/"))
          .mapToInt(Map.Entry::getValue).sum();
    }

    private String state(String policy) {
      try {
        HttpResponse<String> r = node.send("GET", "/v1/endpoints/" + policy, null, TestTokens.ADMIN);
        return Json.mapper().readTree(r.body()).path("state").asText();
      } catch (Exception e) {
        return "unknown: " + e;
      }
    }
  }

  /**
   * Every job's story from the audit export of {@code [from, to)}, by endpoint: its first JobQueued, first
   * AttemptStarted, and each attempt until the event that ended it (JobSucceeded, AttemptFailed, ...); times from
   * the events' own {@code at}, in seconds since {@code from}.
   */
  private static Map<String, List<Job>> readEvents(InProcessNode node, Instant from, Instant to) throws Exception {
    String query = "from=" + URLEncoder.encode(from.toString(), StandardCharsets.UTF_8) + "&to="
        + URLEncoder.encode(to.toString(), StandardCharsets.UTF_8);
    HttpRequest request = HttpRequest.newBuilder(URI.create(node.base + "/v1/audit/events?" + query))
        .header("Authorization", "Bearer " + TestTokens.ADMIN).GET().build();
    HttpResponse<java.util.stream.Stream<String>> response = HttpClient.newHttpClient().send(request,
        HttpResponse.BodyHandlers.ofLines());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("audit export: " + response.statusCode());
    }
    Map<String, JobEvents> byId = new HashMap<>();
    response.body().forEach(line -> {
      if (line.isBlank()) {
        return;
      }
      try {
        JsonNode event = Json.mapper().readTree(line);
        if (!event.path("entity").asText().equals("Request")) {
          return;
        }
        JobEvents job = byId.computeIfAbsent(event.path("id").asText(), id -> new JobEvents());
        JsonNode data = event.path("data");
        String type = event.path("type").asText();
        double at = seconds(from, data.path("at").asText());
        switch (type) {
          case "JobSubmitted" -> {
            job.endpoint = data.path("spec").path("endpoint").asText();
            job.owner = data.path("spec").path("owner").asText();
          }
          case "JobQueued" -> job.queued = Double.isNaN(job.queued) ? at : job.queued;
          case "AttemptStarted" -> {
            job.started = Double.isNaN(job.started) ? at : job.started;
            job.runStart = at;
          }
          default -> {
            if (!Double.isNaN(job.runStart)) { // whatever follows an attempt ends it
              job.runs.add(new Run(job.runStart, at));
              job.runStart = Double.NaN;
            }
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    Map<String, List<Job>> byEndpoint = new TreeMap<>();
    int incomplete = 0;
    for (JobEvents e : byId.values()) {
      if (e.owner == null || e.owner.equals("warmup")) {
        continue;
      }
      if (Double.isNaN(e.queued) || Double.isNaN(e.started) || e.runs.isEmpty()) {
        incomplete++;
        continue;
      }
      byEndpoint.computeIfAbsent(e.endpoint, x -> new ArrayList<>()).add(new Job(e.owner, e.queued, e.started,
          e.runs));
    }
    if (incomplete > 0) {
      throw new IllegalStateException(incomplete + " jobs in the export lack JobQueued, AttemptStarted or an end");
    }
    return byEndpoint;
  }

  private static final class JobEvents {
    String endpoint;
    String owner;
    double queued = Double.NaN;
    double started = Double.NaN;
    double runStart = Double.NaN;
    final List<Run> runs = new ArrayList<>();
  }

  private static double seconds(Instant from, String at) {
    if (at.isEmpty()) {
      return Double.NaN;
    }
    Duration d = Duration.between(from, Instant.parse(at));
    return d.getSeconds() + d.getNano() / 1e9;
  }

  private static void publish(Options o, Map<String, List<Job>> byEndpoint, Instant from, Instant to) {
    Report owners = new Report("fairness-owners", "policy", "owner", "jobs", "queue wait p50", "queue wait p99",
        "queue wait max", "slot-seconds", "jobs/s (first queued → last done)");
    Report summary = new Report("fairness", "policy", "a's jobs/s", "a's drain", "small owners' p99 wait (a's "
        + "backlog draining)", "Jain min / mean", "Jain of fair shares min / mean", "windows ≥ 2 active");
    for (String policy : POLICIES) {
      List<Job> jobs = byEndpoint.getOrDefault(policy, List.of());
      Map<String, List<Job>> byOwner = new TreeMap<>();
      jobs.forEach(j -> byOwner.computeIfAbsent(j.owner(), x -> new ArrayList<>()).add(j));
      for (Map.Entry<String, List<Job>> e : byOwner.entrySet()) {
        double[] waits = e.getValue().stream().mapToDouble(Job::waited).toArray();
        double first = e.getValue().stream().mapToDouble(Job::queued).min().orElseThrow();
        double last = e.getValue().stream().mapToDouble(Job::ended).max().orElseThrow();
        owners.row(policy, e.getKey(), waits.length, secs(Fairness.percentile(waits, 0.5)),
            secs(Fairness.percentile(waits, 0.99)), secs(Fairness.percentile(waits, 1.0)),
            String.format(Locale.ROOT, "%.1f", e.getValue().stream().mapToDouble(Job::slotSeconds).sum()),
            String.format(Locale.ROOT, "%.1f", waits.length / (last - first)));
      }
      List<Job> a = byOwner.getOrDefault("a", List.of());
      double aFirst = a.stream().mapToDouble(Job::queued).min().orElse(Double.NaN);
      double aLast = a.stream().mapToDouble(Job::ended).max().orElse(Double.NaN);
      double aLastStart = a.stream().mapToDouble(Job::started).max().orElse(Double.NaN);
      double[] smallWaits = jobs.stream().filter(j -> !j.owner().equals("a") && j.queued() < aLastStart)
          .mapToDouble(Job::waited).toArray();
      double end = jobs.stream().mapToDouble(Job::ended).max().orElse(1);
      List<Window> windows = Fairness.windows(jobs, o.slots(), o.window(), 0, end);
      Spread jain = Fairness.overSharedWindows(windows, Window::jain);
      Spread fair = Fairness.overSharedWindows(windows, Window::jainOfFairShares);
      summary.row(policy, String.format(Locale.ROOT, "%.1f", a.size() / (aLast - aFirst)),
          String.format(Locale.ROOT, "%.1f s", aLast - aFirst),
          smallWaits.length == 0 ? "–" : secs(Fairness.percentile(smallWaits, 0.99)) + " (" + smallWaits.length
              + " jobs)",
          String.format(Locale.ROOT, "%.3f / %.3f", jain.min(), jain.mean()),
          String.format(Locale.ROOT, "%.3f / %.3f", fair.min(), fair.mean()), jain.n());
      StringBuilder perWindow = new StringBuilder(policy + ", per window (start s: active owners, Jain, Jain of "
          + "fair shares, slot-seconds by owner):");
      for (Window w : windows) {
        perWindow.append(String.format(Locale.ROOT, "%n%.0f: %d, %.3f, %.3f, %s", w.start(), w.active(),
            w.active() == 0 ? Double.NaN : w.jain(), w.active() == 0 ? Double.NaN : w.jainOfFairShares(),
            w.slotSeconds().entrySet().stream().map(x -> x.getKey() + String.format(Locale.ROOT, " %.2f",
                x.getValue())).toList()));
      }
      System.err.println(perWindow);
    }
    String params = String.format(Locale.ROOT, "Two endpoints on one in-process node (%s journal), run at the same "
        + "time with the same load: `fair` and `fifo`, %d slots each, a model answering after %d ms. Owner a: %d "
        + "jobs at once to each; owners %s: %d jobs each to each endpoint, evenly over %d s from 2 s after a's first. "
        + "Before: %d warm-up jobs per endpoint, not counted. Queue wait: first JobQueued → first AttemptStarted; "
        + "slot-seconds: each AttemptStarted → the event ending the attempt; all from the audit export %s – %s. "
        + "Jain over the owners active (a job queued or running) in each %d s window; min / mean over the windows "
        + "with at least two active owners.", o.journal(), o.slots(), o.serviceMs(), o.batch(), o.smallOwnerNames(),
        o.small(), o.spread(), o.warmup(), from, to, o.window());
    summary.note(params);
    owners.note(params);
    owners.publish();
    summary.publish();
  }

  private static String secs(double seconds) {
    return seconds < 1 ? String.format(Locale.ROOT, "%.0f ms", seconds * 1000)
        : String.format(Locale.ROOT, "%.1f s", seconds);
  }

  private interface Condition {
    boolean met() throws Exception;
  }

  private static void await(Duration timeout, String what, Condition condition) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.met()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + what);
      }
      Thread.sleep(200);
    }
  }

  private FairnessBenchmark() {}
}
