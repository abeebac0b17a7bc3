package warmgate.provider.sagemaker;

import warmgate.config.EndpointSettings;
import warmgate.endpoint.ProviderKind;
import warmgate.endpoint.Providers;

/**
 * {@code provider = sagemaker-component}: an inference component on a SageMaker endpoint that stays up, scaled
 * between 0 copies (cold) and its configured copies ({@link SageMakerComponentEndpoint}).
 */
public final class SageMakerComponentProvider implements ProviderKind {

  @Override
  public String name() {
    return "sagemaker-component";
  }

  @Override
  public void validate(EndpointSettings settings) {
    SageMakerSettings.component(settings);
  }

  @Override
  public Binder binder(Providers.Shared shared) {
    return new SageMakerBinder(SageMakerComponentEndpoint::bind);
  }
}
