package warmgate.gateway;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import warmgate.endpoint.EndpointCommand;

/**
 * This node's recent history of each endpoint's queue, owner by owner: one sample per endpoint view it is given
 * ({@link QueueSampler} gives it one every {@code interval}), kept for {@code keep}. Plain and thread-safe: the
 * sampler's answers arrive on any thread while routes read.
 *
 * <p>Memory is bounded: per configured endpoint (others are not kept) at most {@code keep / interval} samples
 * (rounded up), each with at most {@code maxOwners} owners by name, those with the most jobs queued; the jobs of
 * the rest are summed into {@link Sample#others()}. So at most endpoints × samples × {@code maxOwners} owner
 * entries, 1 h at 10 s with 8 owners being 360 × 8 = 2 880 entries per endpoint. An owner's name is shared with the
 * sample before it, so a name costs one string while it stays among the ones kept.
 */
public final class QueueDepths {

  /** One owner's jobs waiting for a slot at the sample's time. */
  public record OwnerDepth(String owner, int queued) {}

  /**
   * What an endpoint's queue held at {@code at}.
   *
   * @param queued all jobs holding a place in the queue (as the view's {@code queued})
   * @param inFlight leases held
   * @param owners the owners with jobs queued, most first (ties by name), at most {@code maxOwners}; an owner with
   *     none queued is left out
   * @param others the queued jobs of the owners beyond {@code maxOwners}, summed
   */
  public record Sample(Instant at, int queued, int inFlight, List<OwnerDepth> owners, int others) {}

  private static final Comparator<EndpointCommand.OwnerLoad> MOST_QUEUED =
      Comparator.comparingInt(EndpointCommand.OwnerLoad::queued).reversed()
          .thenComparing(EndpointCommand.OwnerLoad::owner);

  private final Duration interval;
  private final Duration keep;
  private final int maxOwners;
  private final int capacity;
  private final Map<String, Deque<Sample>> samples = new LinkedHashMap<>();

  /**
   * @param endpoints the configured endpoints; views of any other name are not kept
   * @param interval how often samples are taken (to size the buffers)
   * @param keep how long a sample is kept
   * @param maxOwners owners kept by name per sample, at least 1
   */
  public QueueDepths(Set<String> endpoints, Duration interval, Duration keep, int maxOwners) {
    if (interval.isZero() || interval.isNegative() || keep.compareTo(interval) < 0 || maxOwners < 1) {
      throw new IllegalArgumentException("queue history needs interval > 0, keep >= interval and max-owners >= 1; got "
          + interval + ", " + keep + ", " + maxOwners);
    }
    this.interval = interval;
    this.keep = keep;
    this.maxOwners = maxOwners;
    this.capacity = (int) Math.min(1_000_000, (keep.toMillis() + interval.toMillis() - 1) / interval.toMillis());
    endpoints.forEach(name -> samples.put(name, new ArrayDeque<>()));
  }

  public Duration interval() {
    return interval;
  }

  public Duration keep() {
    return keep;
  }

  public int maxOwners() {
    return maxOwners;
  }

  /** The most samples kept per endpoint. */
  public int capacity() {
    return capacity;
  }

  /** Records what {@code view} says about its endpoint's queue at {@code at}; other endpoints' views are dropped. */
  public void record(Instant at, EndpointCommand.View view) {
    Deque<Sample> kept = samples.get(view.name());
    if (kept == null) {
      return;
    }
    List<EndpointCommand.OwnerLoad> waiting = view.owners().stream().filter(o -> o.queued() > 0).sorted(MOST_QUEUED)
        .toList();
    synchronized (kept) {
      Sample last = kept.peekLast();
      if (last != null && !at.isAfter(last.at())) {
        return; // an answer that arrived after a later one: the history stays in time order
      }
      List<OwnerDepth> owners = new ArrayList<>(Math.min(maxOwners, waiting.size()));
      int others = 0;
      for (EndpointCommand.OwnerLoad load : waiting) {
        if (owners.size() < maxOwners) {
          owners.add(new OwnerDepth(sharedName(last, load.owner()), load.queued()));
        } else {
          others += load.queued();
        }
      }
      while (kept.size() >= capacity) {
        kept.removeFirst();
      }
      kept.addLast(new Sample(at, view.queued(), view.inFlight(), List.copyOf(owners), others));
      Instant oldest = at.minus(keep);
      while (!kept.isEmpty() && kept.peekFirst().at().isBefore(oldest)) {
        kept.removeFirst();
      }
    }
  }

  /** The endpoint's samples taken at or after {@code since}, oldest first; empty for an unknown endpoint. */
  public List<Sample> since(String endpoint, Instant since) {
    Deque<Sample> kept = samples.get(endpoint);
    if (kept == null) {
      return List.of();
    }
    synchronized (kept) {
      return kept.stream().filter(s -> !s.at().isBefore(since)).toList();
    }
  }

  /** The previous sample's string for {@code owner} when it has one, so repeated names are not kept twice. */
  private static String sharedName(Sample last, String owner) {
    if (last != null) {
      for (OwnerDepth depth : last.owners()) {
        if (depth.owner().equals(owner)) {
          return depth.owner();
        }
      }
    }
    return owner;
  }
}
