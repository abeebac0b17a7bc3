package warmgate.endpoint;

import java.util.Optional;
import warmgate.config.EndpointSettings;
import warmgate.provider.AsyncResultFormat;
import warmgate.provider.PushedStates;

/**
 * One kind of provider as {@link Providers} knows it: the name an endpoint's {@code provider} setting gives, how
 * the endpoint's block of that name is checked, and how an endpoint is bound to it.
 */
public interface ProviderKind {

  /** As in {@code provider = <name>}; also the name of the endpoint's own block. */
  String name();

  /**
   * Checks the endpoint's {@code <name>} block ({@link EndpointSettings#providerConfig}) before anything is bound.
   *
   * @throws IllegalArgumentException naming the endpoint and the key at fault
   */
  void validate(EndpointSettings settings);

  /** What binds this kind's endpoints on this node; made on first use and closed with the registry. */
  Binder binder(Providers.Shared shared);

  /** The state changes this kind's platform pushes, for the configured {@code endpoints}; most kinds have none. */
  default Optional<PushedStates> pushedStates(Endpoints endpoints) {
    return Optional.empty();
  }

  /** How this kind's platform announces finished asynchronous invocations, if it has any. */
  default Optional<AsyncResultFormat> asyncResults() {
    return Optional.empty();
  }

  /** Binds endpoints of one kind and owns the clients they share. */
  interface Binder extends AutoCloseable {
    ManagedEndpoint bind(EndpointSettings settings);

    @Override
    default void close() {}
  }
}
