package warmgate.endpoint;

import warmgate.config.EndpointSettings;
import warmgate.provider.EndpointProvider;
import warmgate.provider.InferenceClient;

/** An endpoint Warmgate looks after: its settings, how to start and stop it, and how to call it. */
public record ManagedEndpoint(EndpointSettings settings, EndpointProvider provider, InferenceClient client) {

  public String name() {
    return settings.name();
  }
}
