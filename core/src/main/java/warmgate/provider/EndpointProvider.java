package warmgate.provider;

import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * Controls one endpoint's infrastructure (a SageMaker endpoint, a local model process). Every call is
 * idempotent: starting what is starting or running, and stopping what is stopped, succeed, because the
 * lifecycle actor repeats calls after a crash without knowing whether the first one landed.
 */
public interface EndpointProvider {

  CompletionStage<ProviderState> describe();

  /** Asks for the endpoint to be created; completes once the request is accepted, not when it is in service. */
  CompletionStage<Void> start();

  /**
   * The configurations a start may use, in the order to try them when a start fails for capacity
   * ({@link ProviderState#capacityShortage}); empty when the provider has only one, which {@link #start()} uses.
   */
  default java.util.List<String> configurations() {
    return java.util.List.of();
  }

  /**
   * Asks for the endpoint to be created from {@code configuration}, one of {@link #configurations()}. Like
   * {@link #start()}, it succeeds when the endpoint exists already, whatever it was created from: describe tells.
   */
  default CompletionStage<Void> start(String configuration) {
    return start();
  }

  /** Asks for the endpoint to be deleted; completes once the request is accepted. */
  CompletionStage<Void> stop();

  /**
   * Whether the endpoint runs on this node and cannot outlive it (a local model process): its lifecycle stops it,
   * and records the stop, when the lifecycle leaves the node (a hand-off, or the node shutting down), and its next
   * home starts a fresh one when jobs need it. A remote endpoint (SageMaker) runs on, and the next home adopts it.
   */
  default boolean nodeLocal() {
    return false;
  }

  /**
   * Has {@code changed} told (with the provider's status word) whenever this provider learns by itself that its
   * endpoint's state changed, e.g. a local model server whose health check starts passing, so the lifecycle can
   * describe at once instead of at its next poll. A hint, not the truth: the lifecycle still acts on describe.
   * The default learns nothing by itself, and the lifecycle relies on polling (and pushed EventBridge events).
   *
   * @param changed called on any thread; must not block
   */
  default Watch watch(Consumer<String> changed) {
    return Watch.NONE;
  }

  /** Ends a {@link #watch}. */
  interface Watch extends AutoCloseable {
    Watch NONE = () -> {};

    @Override
    void close();
  }
}
