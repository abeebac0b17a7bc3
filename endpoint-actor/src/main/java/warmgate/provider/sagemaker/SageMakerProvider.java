package warmgate.provider.sagemaker;

import java.util.Optional;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.Endpoints;
import warmgate.endpoint.ProviderKind;
import warmgate.endpoint.Providers;
import warmgate.provider.PushedStates;

/**
 * {@code provider = sagemaker}: a SageMaker real-time endpoint per endpoint ({@link SageMakerEndpoint}), remote, so
 * it runs on when a node leaves. Its state changes are also pushed, through EventBridge.
 */
public final class SageMakerProvider implements ProviderKind {

  @Override
  public String name() {
    return "sagemaker";
  }

  @Override
  public void validate(EndpointSettings settings) {
    SageMakerEndpoint.validate(settings);
  }

  @Override
  public Binder binder(Providers.Shared shared) {
    return new SageMakerBinder(SageMakerEndpoint::bind);
  }

  @Override
  public Optional<PushedStates> pushedStates(Endpoints endpoints) {
    return Optional.of(SageMakerPushedStates.of(endpoints));
  }
}
