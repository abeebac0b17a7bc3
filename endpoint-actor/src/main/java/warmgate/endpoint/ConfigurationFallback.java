package warmgate.endpoint;

import java.util.List;
import warmgate.provider.EndpointProvider;
import warmgate.provider.ProviderState;

/**
 * Which configuration a start uses, and which one comes next when a start fails for want of platform capacity, with
 * no actor in it. Every start begins with the provider's first configuration (capacity may have come back since the
 * last one); a capacity shortage moves to the next one in the provider's order, and only when none is left does the
 * start count as failed. A provider without a list has one configuration, named null here, and never falls back.
 */
final class ConfigurationFallback {

  private final EndpointProvider provider;

  ConfigurationFallback(EndpointProvider provider) {
    this.provider = provider;
  }

  /** What a new start uses: the provider's first configuration, or null when it has only one. */
  String first() {
    List<String> all = provider.configurations();
    return all.isEmpty() ? null : all.get(0);
  }

  /**
   * What to start after {@code failed} failed as {@code described}: the next configuration when that was a capacity
   * shortage and the provider lists one after it, otherwise null (the start has failed). A null {@code failed} is the
   * first configuration (an adopted endpoint, or a journal from before the list); one the provider no longer lists
   * has no next.
   */
  String nextAfter(String failed, ProviderState described) {
    if (!described.capacityShortage()) {
      return null;
    }
    List<String> all = provider.configurations();
    int index = failed == null ? 0 : all.indexOf(failed);
    return index < 0 || index + 1 >= all.size() ? null : all.get(index + 1);
  }

  /** Says, for the reason of a failed start, that no configuration had capacity. */
  String exhausted(String reason, ProviderState described) {
    List<String> all = provider.configurations();
    return described.capacityShortage() && all.size() > 1
        ? "no capacity for any of the configurations " + all + "; last: " + reason : reason;
  }
}
