package warmgate.service;

import java.util.Set;
import java.util.concurrent.CompletionStage;
import warmgate.endpoint.EndpointLifecycle;

/** The configured endpoints and what their lifecycle actors say about them. */
public interface EndpointStates {

  Set<String> names();

  /** Only for a name in {@link #names()}. */
  CompletionStage<EndpointLifecycle.View> get(String name);
}
