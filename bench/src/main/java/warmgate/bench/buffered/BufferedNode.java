package warmgate.bench.buffered;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import warmgate.bench.PlannerStatistics;
import warmgate.e2e.Folders;
import warmgate.e2e.Postgres;
import warmgate.endpoint.FakeProvider;
import warmgate.job.JobSpec;
import warmgate.job.ObjectRef;
import warmgate.node.InProcessNode;
import warmgate.provider.EndpointProvider;
import warmgate.provider.InferenceClient;
import warmgate.provider.ProviderState;
import warmgate.provider.ProviderState.Status;

/**
 * One in-process node (InProcessNode: H2 or a fresh PostgreSQL database, in-memory bucket) whose endpoint
 * {@value #ENDPOINT} is held in CREATING by a fake provider until the benchmark flips it in service, and whose
 * model answers at once. It buffers jobs, flips the endpoint and times what follows: when the lifecycle first
 * saw the endpoint in service (the first describe answering IN_SERVICE), when the first job's invocation began,
 * and when the last job's {@code JobSucceeded} was stored.
 *
 * <p>Every setting is Warmgate's default (status poll 1 s, acquire interval 5 s, ...) except the ones the caller
 * passes and a 1 s idle timeout, so a drained endpoint goes cold soon and the next trial can buffer again.
 */
final class BufferedNode implements AutoCloseable {
  static final String ENDPOINT = "gen3d";
  private static final String BUCKET = "bench";
  private static final Pattern SUCCEEDED = Pattern.compile(
      "warmgate_job_transitions_total\\{endpoint=\"" + ENDPOINT + "\",status=\"SUCCEEDED\"} (\\S+)");
  private static final Pattern QUEUED = Pattern.compile("warmgate_endpoint_queued_jobs\\{endpoint=\"" + ENDPOINT
      + "\"} (\\S+)");
  private static final Pattern STATE = Pattern.compile("warmgate_endpoint_state\\{endpoint=\"" + ENDPOINT
      + "\",state=\"(\\w+)\"} 1\\.0");

  final Timed provider = new Timed();
  final Model model = new Model();
  final InProcessNode node;
  private final Path dataDir;
  private final Postgres postgres;
  private final PlannerStatistics statistics;
  private final byte[] image;
  private final byte[] mask;
  private int submitted;

  enum Journal {
    H2, POSTGRES
  }

  /** @param settings on top of Warmgate's defaults, e.g. max-concurrency */
  BufferedNode(Journal journal, Map<String, Object> settings, boolean push, int inputBytes) {
    try {
      this.dataDir = Files.createTempDirectory("warmgate-bench-buffered");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.postgres = journal == Journal.POSTGRES ? new Postgres() : null;
    // This machine's server runs without autovacuum; a production one keeps the growing journal's statistics.
    this.statistics = postgres == null ? null : PlannerStatistics.keepCurrent(postgres, Duration.ofSeconds(15));
    provider.push = push;
    Map<String, Object> all = new HashMap<>();
    // InProcessNode's quick test defaults, back to Warmgate's own defaults.
    all.put("warmgate.endpoint-defaults.status-poll-interval", "1s");
    all.put("warmgate.request.inputs-check-interval", "2s");
    all.put("warmgate.request.acquire-interval", "5s");
    all.put("warmgate.endpoint-defaults.idle-timeout", "1s");
    all.put("pekko.logger-startup-timeout", "30s"); // 5 s is not always enough on a machine kept busy
    all.put("warmgate.endpoint-defaults.max-queued", 1_000_000); // every job asked for is buffered, none turned away
    all.put("warmgate.endpoint-defaults.queue.owner-defaults.max-queued", 1_000_000); // the one owner's too
    if (postgres != null) {
      all.put("warmgate.database.url", postgres.url);
      all.put("warmgate.database.user", Postgres.USER);
      all.put("warmgate.database.password", "");
    }
    all.putAll(settings);
    try {
      this.node = InProcessNode.start(dataDir, all, fake -> {
        provider.fake = fake;
        return provider;
      }, model);
    } catch (RuntimeException e) {
      closeStorage();
      throw e;
    }
    this.image = filler(inputBytes, 'i');
    this.mask = filler(inputBytes, 'm');
  }

  /**
   * Submits {@code count} jobs (inputs written first, so none waits for them) and waits until the endpoint holds
   * all of them in its queue and the job index lists them: jobs buffer while an endpoint starts, which takes
   * minutes, so by the time it serves the read side has long folded their events, and its catch-up must not compete
   * with what is measured after the flip. The first job starts the endpoint, which stays CREATING.
   */
  void buffer(int count) throws Exception {
    model.reset();
    provider.reset();
    Semaphore inFlight = new Semaphore(256);
    AtomicInteger failures = new AtomicInteger();
    java.util.concurrent.atomic.AtomicReference<Throwable> lastFailure =
        new java.util.concurrent.atomic.AtomicReference<>();
    int from = submitted;
    for (int i = from; i < from + count; i++) {
      String base = "jobs/" + i;
      ObjectRef imageRef = new ObjectRef(BUCKET, base + "_image.png");
      ObjectRef maskRef = new ObjectRef(BUCKET, base + "_mask.png");
      node.blobs.put(imageRef, image);
      node.blobs.put(maskRef, mask);
      JobSpec spec = new JobSpec(ENDPOINT, "bench", Map.of("image", imageRef, "mask", maskRef),
          new ObjectRef(BUCKET, base + ".ply"), null, null, "http", false);
      inFlight.acquire();
      submit("bench-" + i, spec, 60).whenComplete((ok, failure) -> {
        if (failure != null) {
          failures.incrementAndGet();
          lastFailure.set(failure);
        }
        inFlight.release();
      });
    }
    inFlight.acquire(256);
    inFlight.release(256);
    submitted += count;
    if (failures.get() > 0) {
      throw new IllegalStateException(failures.get() + " of " + count + " submissions failed", lastFailure.get());
    }
    await(Duration.ofMinutes(5), "all " + count + " jobs in the queue of the starting endpoint",
        () -> queued() >= count && "STARTING".equals(state()));
    await(Duration.ofMinutes(5), "all " + count + " queued jobs in the job index", () -> indexedQueued() >= count);
  }

  /** QUEUED rows of the job index: the jobs of the trial under way, since earlier ones have succeeded. */
  private long indexedQueued() throws Exception {
    try (var c = node.node.readSide().pool().getConnection();
        var ps = c.prepareStatement("SELECT COUNT(*) FROM job_index WHERE status = 'QUEUED'");
        var rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Submits as a client would: a refusal or a timeout (the node still starting its shards) is tried again. */
  private CompletableFuture<Object> submit(String jobId, JobSpec spec, int triesLeft) {
    CompletableFuture<Object> result = new CompletableFuture<>();
    node.node.jobs().submit(jobId, spec).whenComplete((ok, failure) -> {
      if (failure == null) {
        result.complete(ok);
      } else if (triesLeft <= 1) {
        result.completeExceptionally(failure);
      } else {
        CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS).execute(() -> submit(jobId, spec, triesLeft - 1)
            .whenComplete((again, stillFailing) -> {
              if (stillFailing == null) {
                result.complete(again);
              } else {
                result.completeExceptionally(stillFailing);
              }
            }));
      }
    });
    return result;
  }

  /** Waits until every job in the endpoint's queue has parked (warmgate.request.park-after): left memory, place kept.
   * */
  void awaitParked() throws Exception {
    await(Duration.ofMinutes(5), "all " + queued() + " queued jobs parked", () -> {
      var view = org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.get(node.system)
          .entityRefFor(warmgate.endpoint.EndpointEntity.ENTITY_KEY, ENDPOINT)
          .ask(warmgate.endpoint.EndpointCommand.Get::new, Duration.ofSeconds(10)).toCompletableFuture().join();
      return view.queued() > 0 && view.parked() == view.queued();
    });
  }

  /** Puts the endpoint in service (and, with push on, tells the lifecycle at once). */
  void flip() {
    provider.flip();
  }

  /** Waits until every job submitted so far has succeeded; the nanoTime when the last one was seen stored. */
  long awaitAllSucceeded(Duration timeout) throws Exception {
    // Outputs are written just before JobSucceeded is stored; wait for them cheaply, then watch the counter closely.
    await(timeout, "all outputs written", () -> outputs() >= submitted, 5);
    await(timeout, "all jobs SUCCEEDED", () -> succeeded() >= submitted, 1);
    return System.nanoTime();
  }

  /** Waits for the endpoint to go cold again (idle timeout 1 s) so that the next {@link #buffer} starts it afresh. */
  void awaitCold() throws Exception {
    await(Duration.ofMinutes(1), "the endpoint cold", () -> "COLD".equals(state()));
  }

  int submitted() {
    return submitted;
  }

  private int outputs() {
    return node.blobs.puts.get() - 2 * submitted;
  }

  /** The Request entities' journal writes so far on this node: {count, total seconds} (warmgate_journal_write_seconds).
   * */
  double[] requestJournalWrites() {
    String text = node.node.metrics().scrapeText();
    return new double[] {
        find(text, Pattern.compile("warmgate_journal_write_seconds_count\\{entity=\"Request\"} (\\S+)")),
        find(text, Pattern.compile("warmgate_journal_write_seconds_sum\\{entity=\"Request\"} (\\S+)"))};
  }

  private static double find(String text, Pattern pattern) {
    Matcher m = pattern.matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  private long succeeded() {
    return (long) metric(SUCCEEDED);
  }

  private long queued() {
    return (long) metric(QUEUED);
  }

  private String state() {
    Matcher m = STATE.matcher(node.node.metrics().scrapeText());
    return m.find() ? m.group(1) : "unknown";
  }

  private double metric(Pattern pattern) {
    Matcher m = pattern.matcher(node.node.metrics().scrapeText());
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  interface Condition {
    boolean met() throws Exception;
  }

  private static void await(Duration timeout, String what, Condition condition) throws Exception {
    await(timeout, what, condition, 100);
  }

  private static void await(Duration timeout, String what, Condition condition, long pollMillis) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.met()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + what);
      }
      Thread.sleep(pollMillis);
    }
  }

  private static byte[] filler(int size, char c) {
    byte[] bytes = new byte[size];
    java.util.Arrays.fill(bytes, (byte) c);
    return bytes;
  }

  @Override
  public void close() {
    try {
      node.close();
    } finally {
      closeStorage();
    }
  }

  private void closeStorage() {
    if (statistics != null) {
      statistics.close();
    }
    if (postgres != null) {
      postgres.close();
    }
    try {
      Folders.deleteTree(dataDir);
    } catch (IOException e) {
      System.err.println("could not delete " + dataDir + ": " + e);
    }
  }

  /**
   * The node's FakeProvider, timed: when the flip happened and when the lifecycle first learnt of it. With push on
   * it also tells the lifecycle of the flip at once, as the process provider does when its model's ping passes.
   */
  static final class Timed implements EndpointProvider {
    volatile FakeProvider fake;
    volatile boolean push;
    final AtomicLong flippedAt = new AtomicLong();
    final AtomicLong seenAt = new AtomicLong();

    void reset() {
      flippedAt.set(0);
      seenAt.set(0);
    }

    void flip() {
      flippedAt.set(System.nanoTime());
      fake.set(Status.IN_SERVICE);
      if (push) {
        fake.push();
      }
    }

    @Override
    public Watch watch(java.util.function.Consumer<String> changed) {
      return fake.watch(changed);
    }

    @Override
    public CompletionStage<ProviderState> describe() {
      return fake.describe().thenApply(state -> {
        if (state.status() == Status.IN_SERVICE && flippedAt.get() != 0) {
          seenAt.compareAndSet(0, System.nanoTime());
        }
        return state;
      });
    }

    @Override
    public CompletionStage<Void> start() {
      return fake.start();
    }

    @Override
    public CompletionStage<Void> stop() {
      return fake.stop();
    }
  }

  /**
   * A model that answers every invocation at once, or {@link #latencyMillis} later without holding a thread (as a
   * remote model's answer arrives), and notes when the first one began.
   */
  static final class Model implements InferenceClient {
    private static final byte[] PLY = "ply\n".getBytes(StandardCharsets.US_ASCII);
    final AtomicLong firstAt = new AtomicLong();
    final AtomicInteger invocations = new AtomicInteger();
    volatile long latencyMillis;

    Model() {
      this(0);
    }

    Model(long latencyMillis) {
      this.latencyMillis = latencyMillis;
    }

    void reset() {
      firstAt.set(0);
    }

    @Override
    public CompletionStage<InferenceResponse> invoke(String contentType, byte[] body) {
      firstAt.compareAndSet(0, System.nanoTime());
      invocations.incrementAndGet();
      InferenceResponse answer = new InferenceResponse(PLY, "application/octet-stream");
      long latency = latencyMillis;
      return latency == 0 ? CompletableFuture.completedFuture(answer)
          : CompletableFuture.supplyAsync(() -> answer, CompletableFuture.delayedExecutor(latency,
              TimeUnit.MILLISECONDS));
    }
  }

  /**
   * The node logs as a deployed one does (logback.xml: asynchronous console appender, Warmgate at INFO), not as
   * the tests do (the test-jar's logback-test.xml, which is on the class path too and would win). Call first.
   */
  static void useProductionLogging() {
    System.setProperty("logback.configurationFile", System.getProperty("warmgate.bench.logback", "logback.xml"));
  }

  static double millis(long nanos) {
    return nanos / (double) TimeUnit.MILLISECONDS.toNanos(1);
  }
}
