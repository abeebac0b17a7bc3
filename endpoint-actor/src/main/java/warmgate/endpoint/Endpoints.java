package warmgate.endpoint;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import warmgate.config.EndpointSettings;

/** The configured endpoints by name; the only ones a job or a route may name. */
public final class Endpoints {
  private final Map<String, ManagedEndpoint> byName;

  public Endpoints(Collection<ManagedEndpoint> endpoints) {
    Map<String, ManagedEndpoint> map = new LinkedHashMap<>();
    for (ManagedEndpoint endpoint : endpoints) {
      if (map.put(endpoint.name(), endpoint) != null) {
        throw new IllegalArgumentException("endpoint " + endpoint.name() + " is configured twice");
      }
    }
    this.byName = Collections.unmodifiableMap(map);
  }

  /** Binds every configured endpoint to its provider with {@code bind}. */
  public static Endpoints bind(Map<String, EndpointSettings> settings, Function<EndpointSettings,
      ManagedEndpoint> bind) {
    return new Endpoints(settings.values().stream().map(bind).toList());
  }

  public boolean contains(String name) {
    return byName.containsKey(name);
  }

  /** The endpoint called {@code name}; asking for one that is not configured is a programming error. */
  public ManagedEndpoint get(String name) {
    ManagedEndpoint endpoint = byName.get(name);
    if (endpoint == null) {
      throw new IllegalArgumentException("no endpoint named '" + name + "' is configured; known: " + byName.keySet());
    }
    return endpoint;
  }

  public Set<String> names() {
    return byName.keySet();
  }

  public Collection<ManagedEndpoint> all() {
    return byName.values();
  }
}
