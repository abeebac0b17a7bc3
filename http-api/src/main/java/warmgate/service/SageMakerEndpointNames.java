package warmgate.service;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import warmgate.endpoint.Endpoints;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.endpoint.sagemaker.SageMakerEndpoint;

/**
 * Which configured endpoints stand behind a SageMaker endpoint name, for pushed state changes. SageMaker
 * endpoint names are unique per account and region regardless of case, so they are matched without
 * regard to case; two configured endpoints may share one name in different regions, and both are told.
 */
public final class SageMakerEndpointNames {
  private final Map<String, List<String>> byName;

  /** @param byName SageMaker endpoint name to the Warmgate endpoints bound to it */
  public SageMakerEndpointNames(Map<String, List<String>> byName) {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    byName.forEach((name, endpoints) -> copy.computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).addAll(endpoints));
    copy.replaceAll((name, endpoints) -> List.copyOf(endpoints));
    this.byName = Map.copyOf(copy);
  }

  /** The endpoints with {@code provider = sagemaker}, by the SageMaker endpoint each is bound to. */
  public static SageMakerEndpointNames of(Endpoints endpoints) {
    Map<String, List<String>> byName = new LinkedHashMap<>();
    for (ManagedEndpoint endpoint : endpoints.all()) {
      if (endpoint.provider() instanceof SageMakerEndpoint sageMaker) {
        byName.computeIfAbsent(sageMaker.endpointName(), k -> new ArrayList<>()).add(endpoint.name());
      }
    }
    return new SageMakerEndpointNames(byName);
  }

  /** Empty when no configured endpoint is bound to {@code sageMakerName}. */
  public List<String> endpointsFor(String sageMakerName) {
    return byName.getOrDefault(sageMakerName.toLowerCase(Locale.ROOT), List.of());
  }

  @Override
  public String toString() {
    return byName.toString();
  }
}
