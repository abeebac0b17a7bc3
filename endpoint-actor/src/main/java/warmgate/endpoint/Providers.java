package warmgate.endpoint;

import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executor;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.process.ChildProcesses;
import warmgate.endpoint.process.ProcessEndpoint;
import warmgate.endpoint.sagemaker.SageMakerClients;
import warmgate.endpoint.sagemaker.SageMakerEndpoint;

/** Binds each configured endpoint to its kind of provider, and owns the clients those share. */
public final class Providers implements AutoCloseable {
  private final Executor blocking;
  private final HttpClient http;
  /** Model processes end with the node that started them; SageMaker endpoints are remote and run on. */
  private final ChildProcesses children = ChildProcesses.ofThisNode();
  private SageMakerClients sageMaker;

  /** @param blocking where providers may block (launching processes, waiting for them to exit) */
  public Providers(Executor blocking) {
    this.blocking = blocking;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  }

  public synchronized ManagedEndpoint bind(EndpointSettings settings) {
    return switch (settings.provider()) {
      case "process" -> ProcessEndpoint.bind(settings, Path.of(settings.providerConfig().getString("state-dir")), blocking, http, children);
      case "sagemaker" -> {
        if (sageMaker == null) {
          sageMaker = new SageMakerClients();
        }
        yield SageMakerEndpoint.bind(settings, sageMaker);
      }
      default -> throw new IllegalArgumentException("endpoint " + settings.name() + ": unknown provider " + settings.provider());
    };
  }

  @Override
  public synchronized void close() {
    children.close();
    if (sageMaker != null) {
      sageMaker.close();
    }
  }
}
