package warmgate.provider;

import java.util.List;

/**
 * What a kind of provider offers when its platform also pushes its endpoints' state changes (SageMaker through
 * EventBridge's {@code SageMaker Endpoint State Change}), beside describe and polling. A pushed change is a reason
 * for the named endpoints to describe at once, never a fact to act on: it may arrive late or out of order.
 */
public interface PushedStates {

  /** Where the changes come from, as EventBridge names the source ({@code aws.sagemaker}). */
  String source();

  /** The platform as messages name it ({@code SageMaker}). */
  String platform();

  /**
   * The configured endpoints bound to the platform's endpoint {@code externalName}, and the state its status word
   * means.
   *
   * @param failureReason null unless the platform gave one
   * @return the change; its endpoints are empty when no configured endpoint is bound to {@code externalName}
   * @throws IllegalArgumentException when {@code statusWord} is not a status the platform documents, whether or not
   *     an endpoint is bound
   */
  Change resolve(String externalName, String statusWord, String failureReason);

  /** @param endpoints the configured endpoints (Warmgate's names) to tell */
  record Change(List<String> endpoints, ProviderState state) {
    public Change {
      endpoints = List.copyOf(endpoints);
    }
  }
}
