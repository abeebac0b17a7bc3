package warmgate.endpoint;

import java.util.concurrent.CompletionStage;

/**
 * Controls one endpoint's infrastructure (a SageMaker endpoint, a local model process). Every call is
 * idempotent: starting what is starting or running, and stopping what is stopped, succeed, because the
 * lifecycle actor repeats calls after a crash without knowing whether the first one landed.
 */
public interface EndpointProvider {

  CompletionStage<ProviderState> describe();

  /** Asks for the endpoint to be created; completes once the request is accepted, not when it is in service. */
  CompletionStage<Void> start();

  /** Asks for the endpoint to be deleted; completes once the request is accepted. */
  CompletionStage<Void> stop();
}
