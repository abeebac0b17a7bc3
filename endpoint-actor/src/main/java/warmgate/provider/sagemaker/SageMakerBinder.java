package warmgate.provider.sagemaker;

import java.util.function.BiFunction;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.endpoint.ProviderKind;

/**
 * Binds one SageMaker kind's endpoints to clients made on first use, so a node with no such endpoint opens no
 * connection pool, and closes them with the registry.
 */
final class SageMakerBinder implements ProviderKind.Binder {
  private final BiFunction<EndpointSettings, SageMakerClients, ManagedEndpoint> bind;
  private SageMakerClients clients;

  SageMakerBinder(BiFunction<EndpointSettings, SageMakerClients, ManagedEndpoint> bind) {
    this.bind = bind;
  }

  @Override
  public synchronized ManagedEndpoint bind(EndpointSettings settings) {
    if (clients == null) {
      clients = new SageMakerClients();
    }
    return bind.apply(settings, clients);
  }

  @Override
  public synchronized void close() {
    if (clients != null) {
      clients.close();
    }
  }
}
