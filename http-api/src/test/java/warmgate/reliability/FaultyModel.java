package warmgate.reliability;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import warmgate.endpoint.FakeProvider;
import warmgate.provider.InferenceClient;
import warmgate.provider.InferenceException;
import warmgate.provider.ProviderState.Status;

/**
 * A model behind a runtime client that fails the way SageMaker's runtime does, at seeded random: 5xx answers,
 * throttling, calls the client gives up on after {@code invoke-timeout} (as the SDK's api-call timeout does), and
 * calls that never answer at all, which only the job's {@code attempt-timeout} ends. It serves only while the
 * provider's truth says the endpoint is in service, and an invocation running when the endpoint turns Failed fails.
 * The failures carry the kind {@code SageMakerEndpoint.classify} gives them: all transient.
 */
final class FaultyModel implements InferenceClient, AutoCloseable {

  /**
   * @param serverError chance of a 5xx (InternalFailure, ServiceUnavailable)
   * @param throttled chance of a throttled invocation
   * @param timeout chance that the model does not answer within {@code invokeTimeout}, and the client gives up
   * @param hang chance that the call never completes
   * @param latencyMax a call that answers takes a random time up to this
   */
  record Plan(double serverError, double throttled, double timeout, double hang, Duration invokeTimeout,
      Duration latencyMax) {}

  private final FakeProvider truth;
  private final Plan plan;
  private final Random random;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "faulty-model");
    t.setDaemon(true);
    return t;
  });
  private final AtomicLong invocations = new AtomicLong();
  private final ConcurrentLinkedQueue<CompletableFuture<InferenceResponse>> hung = new ConcurrentLinkedQueue<>();
  private final Map<String, Integer> counts = new TreeMap<>();

  FaultyModel(FakeProvider truth, Plan plan, Random random) {
    this.truth = truth;
    this.plan = plan;
    this.random = random;
  }

  /** Invocations so far, however they ended. */
  long invocations() {
    return invocations.get();
  }

  @Override
  public CompletionStage<InferenceResponse> invoke(String contentType, byte[] body) {
    invocations.incrementAndGet();
    if (truth.status() != Status.IN_SERVICE) {
      count("not in service");
      return CompletableFuture.failedFuture(transientFailure("ModelNotReadyException (HTTP 424): endpoint gen3d is "
          + truth.status()));
    }
    double draw;
    long latencyNanos;
    synchronized (random) {
      draw = random.nextDouble();
      latencyNanos = (long) (random.nextDouble() * plan.latencyMax().toNanos());
    }
    if (draw < plan.hang()) {
      count("hang");
      CompletableFuture<InferenceResponse> never = new CompletableFuture<>();
      hung.add(never);
      return never;
    }
    draw -= plan.hang();
    CompletableFuture<InferenceResponse> answer = new CompletableFuture<>();
    if (draw < plan.timeout()) {
      count("timeout");
      timer.schedule(() -> answer.completeExceptionally(transientFailure(
          "no answer within invoke-timeout (" + plan.invokeTimeout().toMillis() + " ms)")),
              plan.invokeTimeout().toNanos(), TimeUnit.NANOSECONDS);
      return answer;
    }
    draw -= plan.timeout();
    String outcome;
    if (draw < plan.serverError()) {
      outcome = "5xx";
    } else if (draw < plan.serverError() + plan.throttled()) {
      outcome = "throttled";
    } else {
      outcome = "answered";
    }
    timer.schedule(() -> {
      if (truth.status() != Status.IN_SERVICE) {
        count("endpoint failed during the call");
        answer.completeExceptionally(transientFailure("InternalFailure (HTTP 500): endpoint gen3d turned "
            + truth.status() + " during the call"));
        return;
      }
      count(outcome);
      switch (outcome) {
        case "5xx" -> answer.completeExceptionally(transientFailure(
            "InternalFailure (HTTP 500): An exception occurred while sending request to model"));
        case "throttled" -> answer.completeExceptionally(transientFailure(
            "ThrottlingException (HTTP 429): Rate exceeded"));
        default -> answer.complete(new InferenceResponse("ply\n".getBytes(StandardCharsets.US_ASCII),
            "application/octet-stream"));
      }
    }, latencyNanos, TimeUnit.NANOSECONDS);
    return answer;
  }

  Map<String, Integer> counts() {
    synchronized (counts) {
      return new TreeMap<>(counts);
    }
  }

  private void count(String what) {
    synchronized (counts) {
      counts.merge(what, 1, Integer::sum);
    }
  }

  private static InferenceException transientFailure(String message) {
    return new InferenceException(InferenceException.Kind.TRANSIENT, "endpoint gen3d: " + message);
  }

  /** Ends the calls that never answered, so nothing waits on them after the test. */
  @Override
  public void close() {
    hung.forEach(f -> f.completeExceptionally(new IllegalStateException("the test ended")));
    timer.shutdownNow();
  }
}
