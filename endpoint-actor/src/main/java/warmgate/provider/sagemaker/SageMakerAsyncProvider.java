package warmgate.provider.sagemaker;

import java.util.Optional;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.ProviderKind;
import warmgate.endpoint.Providers;
import warmgate.provider.AsyncResultFormat;

/**
 * {@code provider = sagemaker-async}: a SageMaker asynchronous endpoint per endpoint, created and deleted like a
 * real-time one ({@link SageMakerEndpoint}) and invoked through S3 ({@link SageMakerAsync}). Its results are announced
 * on SNS ({@link SageMakerAsyncResults}). Its endpoints' pushed state changes come through the {@code sagemaker} kind's
 * {@link SageMakerPushedStates}, which covers every {@link SageMakerEndpoint} whatever its kind.
 */
public final class SageMakerAsyncProvider implements ProviderKind {

  @Override
  public String name() {
    return "sagemaker-async";
  }

  @Override
  public void validate(EndpointSettings settings) {
    SageMakerAsync.validate(settings);
  }

  @Override
  public Binder binder(Providers.Shared shared) {
    return new SageMakerBinder(SageMakerAsync::bind);
  }

  @Override
  public Optional<AsyncResultFormat> asyncResults() {
    return Optional.of(new SageMakerAsyncResults());
  }
}
