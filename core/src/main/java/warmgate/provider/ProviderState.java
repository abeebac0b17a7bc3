package warmgate.provider;

/**
 * What a provider says about its endpoint.
 *
 * @param detail the provider's own status word and failure reason, for logs and users
 * @param capacityShortage for {@link Status#FAILED}: the start failed because the platform had no capacity for the
 *     configuration it used (SageMaker's "Unable to provision requested ML compute capacity"), so another
 *     configuration may succeed where retrying this one would not
 * @param billedUnits what is billed while the endpoint exists: instances, or an inference component's copies; 1
 *     when the provider does not say
 */
public record ProviderState(Status status, String detail, boolean capacityShortage, int billedUnits) {

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

  public ProviderState {
    if (billedUnits < 1) {
      throw new IllegalArgumentException("billedUnits must be at least 1: " + billedUnits);
    }
  }

  public ProviderState(Status status, String detail) {
    this(status, detail, false, 1);
  }

  public static ProviderState of(Status status) {
    return new ProviderState(status, status.name());
  }

  /** A start that failed for want of capacity ({@link #capacityShortage}). */
  public static ProviderState capacityShortage(String detail) {
    return new ProviderState(Status.FAILED, detail, true, 1);
  }

  public ProviderState withBilledUnits(int units) {
    return new ProviderState(status, detail, capacityShortage, units);
  }

  public boolean canServe() {
    return status == Status.IN_SERVICE || status == Status.UPDATING;
  }
}
