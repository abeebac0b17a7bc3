package warmgate.provider.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import warmgate.config.EndpointSettings;
import warmgate.provider.InferenceException;

/** What the SageMaker tests share: endpoint settings, and waiting for stages and states. */
final class SageMakerTesting {
  static final Duration DEADLINE = Duration.ofSeconds(10);

  private SageMakerTesting() {}

  static EndpointSettings settings(String name, String provider, Config block, Duration invokeTimeout) {
    return new EndpointSettings(name, provider, 2, 10, Duration.ofMinutes(5), Duration.ofMinutes(10), 3,
        Duration.ZERO, Duration.ofSeconds(30), Duration.ofMillis(200), Duration.ofSeconds(30), invokeTimeout, block);
  }

  /** The stage's value; its failure itself (not wrapped) when it fails. */
  static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new AssertionError(e.getCause());
    } catch (Exception e) {
      throw new AssertionError("no answer within " + DEADLINE, e);
    }
  }

  /** The InferenceException the stage fails with. */
  static InferenceException inferenceFailure(CompletionStage<?> stage) {
    try {
      stage.toCompletableFuture().get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(InferenceException.class);
      return (InferenceException) e.getCause();
    } catch (Exception e) {
      throw new AssertionError("the call neither failed nor answered in time", e);
    }
    throw new AssertionError("the call was expected to fail but answered");
  }

  /** Polls until {@code done} holds or the deadline passes: the stand-in's states move on a clock. */
  static <T> T eventually(Supplier<T> poll, Predicate<T> done) {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    T last = poll.get();
    while (!done.test(last)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("still " + last + " after " + DEADLINE);
      }
      try {
        Thread.sleep(25);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      last = poll.get();
    }
    return last;
  }
}
