package warmgate.provider;

/**
 * What a provider says about its endpoint.
 *
 * @param detail the provider's own status word and failure reason, for logs and users
 */
public record ProviderState(Status status, String detail) {

  /** The provider statuses the lifecycle acts on; SageMaker's finer ones map onto these. */
  public enum Status {
    /** Does not exist: nothing is billed. */
    ABSENT,
    /** Being created; not yet serving. */
    CREATING,
    /** Serving requests. */
    IN_SERVICE,
    /** Serving requests while its configuration changes. */
    UPDATING,
    /** Being deleted. */
    DELETING,
    /** Exists but cannot serve. */
    FAILED
  }

  public static ProviderState of(Status status) {
    return new ProviderState(status, status.name());
  }

  public boolean canServe() {
    return status == Status.IN_SERVICE || status == Status.UPDATING;
  }
}
