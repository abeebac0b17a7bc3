package warmgate.gateway;

import java.util.Set;
import java.util.concurrent.CompletionStage;
import warmgate.endpoint.EndpointCommand;

/** The configured endpoints, what their lifecycle actors say about them, and starting or stopping them by hand. */
public interface EndpointStates {

  Set<String> names();

  /** Only for a name in {@link #names()}. */
  CompletionStage<EndpointCommand.View> get(String name);

  /** Pre-warms the endpoint; fails with {@link Refused} while it is stopping. Only for a name in {@link #names()}. */
  CompletionStage<EndpointCommand.View> start(String name);

  /**
   * Stops an idle endpoint; fails with {@link Refused} while it starts or has jobs. Only for a name in
   * {@link #names()}.
   */
  CompletionStage<EndpointCommand.View> stop(String name);

  /**
   * Tells the endpoint's lifecycle that its provider pushed a state change ({@code status} as pushed); the
   * lifecycle describes the provider at once rather than trusting it. Fire and forget. Only for a name in
   * {@link #names()}.
   */
  void providerReported(String name, String status);
}
