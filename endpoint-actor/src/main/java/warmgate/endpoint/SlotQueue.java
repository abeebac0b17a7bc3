package warmgate.endpoint;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * An endpoint's wait queue and leases: who waits for a slot, who holds one, who was turned away by a full queue.
 * Runtime state only, never persisted; the entity asks it and turns its answers into messages.
 *
 * <p>Its rules: at most {@code maxQueued} jobs wait (others overflow and ask again), at most {@code maxConcurrency}
 * leases are handed out by {@link #dispatch}, in the order its {@link Ordering} picks (arrival order). A job asking
 * again keeps its place, or gets the lease it already holds again, never a second one. A parked job keeps its place
 * without an address ({@code null}): its grant goes around its actor. A lease lapses unless renewed within
 * {@code leaseTtl}; one never renewed puts its job back in the queue, since the grant may have been lost.
 *
 * @param <A> how the entity reaches a job in memory (an actor); {@code null} for a parked job
 */
public final class SlotQueue<A> {

  /** Which waiting job gets the next free slot; a seam for fairer policies than arrival order. */
  public interface Ordering {
    /** @param waiting the waiting jobs' ids in arrival order, never empty */
    String next(Collection<String> waiting);

    Ordering FIFO = waiting -> waiting.iterator().next();
  }

  /** The answer to {@link #ask}. */
  public sealed interface Answer {}

  /** The job holds a lease already (our grant has not reached it yet): the same lease answers. */
  public record Held(String leaseId) implements Answer {}

  /** The job waits in the queue, at its old place if it had one. */
  public record Queued() implements Answer {}

  /** The queue is full: the job is counted as overflow and asks again. */
  public record Full(int queued) implements Answer {}

  /** A lease to send; {@code to} is null for a parked job. */
  public record Granted<A>(String jobId, A to, String leaseId) {}

  /** A job still waiting, for whom the queue has no slot to give (the endpoint failed). */
  public record Waiter<A>(String jobId, A to) {}

  /**
   * @param requeued jobs whose grant was never taken up, back in the queue
   * @param freed jobs whose lease lapsed after being renewed: their slot is free
   */
  public record Expired(List<String> requeued, List<String> freed) {}

  /**
   * @param renewed whether the holder has renewed it: a lease that expires without ever being renewed may be a
   *     grant lost on its way (to a parked job, or to an actor whose node died), so its job waits in the queue
   *     again instead of losing its turn; a job that had moved on gives the next grant back
   */
  private record Lease(String leaseId, Instant expiresAt, boolean renewed) {}

  private final int maxQueued;
  private final int maxConcurrency;
  private final Duration leaseTtl;
  private final Supplier<String> leaseIds;
  private final Ordering ordering;

  /** In arrival order; a parked job's entry has a null address. */
  private final LinkedHashMap<String, A> waiting = new LinkedHashMap<>();
  private final Map<String, Lease> leases = new HashMap<>();
  /** Jobs turned away by a full queue, with when each last asked; forgotten once let in, gone, or silent too long. */
  private final Map<String, Instant> overflow = new HashMap<>();

  public SlotQueue(int maxQueued, int maxConcurrency, Duration leaseTtl, Supplier<String> leaseIds, Ordering ordering) {
    this.maxQueued = maxQueued;
    this.maxConcurrency = maxConcurrency;
    this.leaseTtl = leaseTtl;
    this.leaseIds = leaseIds;
    this.ordering = ordering;
  }

  /** Whether the queue has never heard of the job (not waiting, not holding a lease, not turned away). */
  public boolean isNew(String jobId) {
    return !leases.containsKey(jobId) && !waiting.containsKey(jobId) && !overflow.containsKey(jobId);
  }

  public boolean holdsLease(String jobId) {
    return leases.containsKey(jobId);
  }

  /** The jobs holding a lease now. */
  public Set<String> leaseHolders() {
    return Set.copyOf(leases.keySet());
  }

  /** Nothing waits and nothing runs. */
  public boolean idle() {
    return waiting.isEmpty() && leases.isEmpty();
  }

  /** A job in memory asks for a slot. */
  public Answer ask(String jobId, A from, Instant now) {
    Lease held = leases.get(jobId);
    if (held != null) {
      return new Held(held.leaseId());
    }
    if (waiting.containsKey(jobId) || waiting.size() < maxQueued) {
      overflow.remove(jobId);
      waiting.put(jobId, from); // an existing key keeps its place in a LinkedHashMap
      return new Queued();
    }
    overflow.put(jobId, now);
    return new Full(waiting.size());
  }

  /** The job leaves memory but keeps its place; false if it has no place to keep. */
  public boolean park(String jobId) {
    if (!waiting.containsKey(jobId)) {
      return false;
    }
    waiting.put(jobId, null);
    return true;
  }

  /**
   * Takes jobs the journal says are queued here as parked, in this order, whatever the queue knew of them; a full
   * queue takes them all the same, since they were let in before. Answers the grants to send again: those of jobs
   * holding a lease they never renewed, whose grant may have gone to an actor that died with its node.
   */
  public List<Granted<A>> enlist(List<String> jobIds) {
    List<Granted<A>> again = new ArrayList<>();
    for (String jobId : jobIds) {
      Lease held = leases.get(jobId);
      if (held == null) {
        overflow.remove(jobId);
        waiting.put(jobId, null);
      } else if (!held.renewed()) {
        again.add(new Granted<>(jobId, null, held.leaseId()));
      }
    }
    return again;
  }

  /**
   * Keeps the job's lease alive. A lease the queue does not know (it was rebuilt after a restart) is taken as
   * held: the job still runs, so its slot is taken, even beyond {@code maxConcurrency}.
   */
  public void renew(String jobId, String leaseId, Instant now) {
    Lease held = leases.get(jobId);
    if (held == null || held.leaseId().equals(leaseId)) {
      leases.put(jobId, new Lease(leaseId, now.plus(leaseTtl), true));
      waiting.remove(jobId);
    }
  }

  /** Returns the job's lease, or with a null {@code leaseId} withdraws its request; a stale lease id changes nothing.
   * */
  public void release(String jobId, String leaseId) {
    if (leaseId == null) {
      waiting.remove(jobId);
      overflow.remove(jobId);
    } else {
      leases.computeIfPresent(jobId, (job, lease) -> lease.leaseId().equals(leaseId) ? null : lease);
    }
  }

  /** Hands out free slots to waiting jobs; the entity sends each grant. */
  public List<Granted<A>> dispatch(Instant now) {
    List<Granted<A>> granted = new ArrayList<>();
    while (leases.size() < maxConcurrency && !waiting.isEmpty()) {
      String jobId = ordering.next(waiting.keySet());
      A to = waiting.remove(jobId);
      String leaseId = leaseIds.get();
      leases.put(jobId, new Lease(leaseId, now.plus(leaseTtl), false));
      granted.add(new Granted<>(jobId, to, leaseId));
    }
    return granted;
  }

  /**
   * Frees the slots of leases not renewed in time, and forgets overflowing jobs that stopped asking (cancelled
   * elsewhere, or their node is gone and they ask again from the next): a job that still waits asks every few
   * seconds, far more often than a lease's time to live.
   */
  public Expired expire(Instant now) {
    overflow.values().removeIf(lastAsked -> lastAsked.plus(leaseTtl).isBefore(now));
    List<String> requeued = new ArrayList<>();
    List<String> freed = new ArrayList<>();
    leases.entrySet().removeIf(e -> {
      boolean expired = e.getValue().expiresAt().isBefore(now);
      if (expired && !e.getValue().renewed()) {
        requeued.add(e.getKey());
        waiting.putIfAbsent(e.getKey(), null);
      } else if (expired) {
        freed.add(e.getKey());
      }
      return expired;
    });
    return new Expired(requeued, freed);
  }

  /** Empties the queue (leases stay), answering who waited, in order. */
  public List<Waiter<A>> drain() {
    List<Waiter<A>> drained = new ArrayList<>();
    waiting.forEach((jobId, to) -> drained.add(new Waiter<>(jobId, to)));
    waiting.clear();
    return drained;
  }

  public int queued() {
    return waiting.size();
  }

  public int inFlight() {
    return leases.size();
  }

  public int overflow() {
    return overflow.size();
  }

  /** A scan of the queue: only asked for by {@code GET /v1/endpoints}, not per job. */
  public int parked() {
    int n = 0;
    for (A to : waiting.values()) {
      if (to == null) {
        n++;
      }
    }
    return n;
  }
}
