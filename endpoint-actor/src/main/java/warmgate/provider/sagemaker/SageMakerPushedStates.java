package warmgate.provider.sagemaker;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import warmgate.endpoint.Endpoints;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.provider.PushedStates;

/**
 * Which configured endpoints stand behind a SageMaker endpoint name, for pushed state changes. SageMaker
 * endpoint names are unique per account and region regardless of case, so they are matched without
 * regard to case; two configured endpoints may share one name in different regions, and both are told.
 */
public final class SageMakerPushedStates implements PushedStates {
  private final Map<String, List<String>> byName;

  /** @param byName SageMaker endpoint name to the Warmgate endpoints bound to it */
  public SageMakerPushedStates(Map<String, List<String>> byName) {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    byName.forEach((name, endpoints) -> copy.computeIfAbsent(name.toLowerCase(Locale.ROOT),
        k -> new ArrayList<>()).addAll(endpoints));
    copy.replaceAll((name, endpoints) -> List.copyOf(endpoints));
    this.byName = Map.copyOf(copy);
  }

  /** The endpoints with {@code provider = sagemaker}, by the SageMaker endpoint each is bound to. */
  public static SageMakerPushedStates of(Endpoints endpoints) {
    Map<String, List<String>> byName = new LinkedHashMap<>();
    for (ManagedEndpoint endpoint : endpoints.all()) {
      if (endpoint.provider() instanceof SageMakerEndpoint sageMaker) {
        byName.computeIfAbsent(sageMaker.endpointName(), k -> new ArrayList<>()).add(endpoint.name());
      }
    }
    return new SageMakerPushedStates(byName);
  }

  @Override
  public String source() {
    return "aws.sagemaker";
  }

  @Override
  public String platform() {
    return "SageMaker";
  }

  @Override
  public Change resolve(String externalName, String statusWord, String failureReason) {
    var state = stateOf(externalName, statusWord, failureReason);
    return new Change(byName.getOrDefault(externalName.toLowerCase(Locale.ROOT), List.of()), state);
  }

  private static warmgate.provider.ProviderState stateOf(String externalName, String statusWord, String failureReason) {
    try {
      return SageMakerEndpoint.stateOf(externalName, statusWord, failureReason);
    } catch (IllegalStateException unknownToThisSdk) {
      throw new IllegalArgumentException(unknownToThisSdk.getMessage(), unknownToThisSdk);
    }
  }

  @Override
  public String toString() {
    return byName.toString();
  }
}
