package warmgate.endpoint;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.function.Supplier;
import warmgate.config.QueueSettings;
import warmgate.job.Priority;

/**
 * An endpoint's wait queue and leases: who waits for a slot, who holds one, who was turned away by a full queue.
 * Runtime state only, never persisted; the entity asks it and turns its answers into messages.
 *
 * <p>Its rules: at most {@code maxQueued} jobs wait (others overflow and ask again), at most {@code maxConcurrency}
 * leases are handed out by {@link #dispatch}, in the order the {@link WaitLine} gives (fair share among owners, or
 * arrival order), and at most an owner's {@code max-in-flight} to one owner. A job asking again keeps its place, or
 * gets the lease it already holds again, never a second one. A parked job keeps its place without an address
 * ({@code null}): its grant goes around its actor. A lease lapses unless renewed within {@code leaseTtl}; one never
 * renewed puts its job back in the queue, since the grant may have been lost.
 *
 * @param <A> how the entity reaches a job in memory (an actor); {@code null} for a parked job
 */
public final class SlotQueue<A> {

  /**
   * Whose job it is and how urgent, which decide its turn.
   *
   * @param owner null: the job has no owner (it shares with the other jobs without one)
   */
  public record Claim(String owner, Priority priority) {
    /** A job of nobody in particular, interactive. */
    public static final Claim NONE = new Claim(null, Priority.INTERACTIVE);

    public Claim {
      priority = priority == null ? Priority.INTERACTIVE : priority;
    }
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
   * @param place where the job stood in the line, for when it has to stand there again
   */
  private record Lease(String leaseId, Instant expiresAt, boolean renewed, WaitLine.Place place) {}

  /** One owner's jobs here; {@code owner} is the one String every place of this owner shares. */
  private static final class Load {
    final String owner;
    int queued;
    int inFlight;

    Load(String owner) {
      this.owner = owner;
    }
  }

  private final int maxQueued;
  private final int maxConcurrency;
  private final Duration leaseTtl;
  private final Supplier<String> leaseIds;
  private final QueueSettings sharing;

  /** Every waiting job's place, in arrival order. */
  private final LinkedHashMap<String, WaitLine.Place> waiting = new LinkedHashMap<>();
  /**
   * The addresses of the waiting jobs in memory; a job of {@code waiting} without one is parked. Apart, since most of
   * a long queue is parked: a place costs no holder of a null address.
   */
  private final Map<String, A> addresses = new HashMap<>();
  private final WaitLine line;
  private final Map<String, Lease> leases = new HashMap<>();
  /** Per owner: jobs waiting and leases held, both counted, so quotas and views need no scan. */
  private final Map<String, Load> loads = new HashMap<>();
  /** Jobs turned away by a full queue, with when each last asked; forgotten once let in, gone, or silent too long. */
  private final Map<String, Instant> overflow = new HashMap<>();
  private long places;
  /** Counts changes of any owner's load, so that reporting them can be skipped when nothing changed. */
  private long loadChanges;

  public SlotQueue(int maxQueued, int maxConcurrency, Duration leaseTtl, Supplier<String> leaseIds,
      QueueSettings sharing) {
    this.maxQueued = maxQueued;
    this.maxConcurrency = maxConcurrency;
    this.leaseTtl = leaseTtl;
    this.leaseIds = leaseIds;
    this.sharing = sharing;
    this.line = new WaitLine(sharing);
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

  /** A job in memory asks for a slot; its ask gives a parked place its address back. */
  public Answer ask(String jobId, Claim claim, A from, Instant now) {
    return ask(jobId, claim, from, now, false);
  }

  /**
   * A job in memory asks for a slot.
   *
   * @param keepParked a parked place stays parked (the job may leave memory at any moment): its grant is not sent to
   *     {@code from}
   */
  public Answer ask(String jobId, Claim claim, A from, Instant now, boolean keepParked) {
    Lease held = leases.get(jobId);
    if (held != null) {
      return new Held(held.leaseId());
    }
    if (waiting.containsKey(jobId)) {
      if (addresses.containsKey(jobId) || !keepParked) {
        address(jobId, from);
      }
      return new Queued();
    }
    if (waiting.size() < maxQueued) {
      overflow.remove(jobId);
      enqueue(jobId, from, place(jobId, claim, now));
      return new Queued();
    }
    overflow.put(jobId, now);
    return new Full(waiting.size());
  }

  /** Whether the job waits for a slot (in memory or parked). */
  public boolean isWaiting(String jobId) {
    return waiting.containsKey(jobId);
  }

  /** Whether the job waits for a slot out of memory: its grant goes through sharding. */
  public boolean isParked(String jobId) {
    return waiting.containsKey(jobId) && !addresses.containsKey(jobId);
  }

  /**
   * Up to {@code n} waiting jobs that {@code wanted} accepts, roughly in the order their slots will come (see
   * {@link WaitLine#ahead}); looks at no more than {@code scan} places.
   */
  public List<String> ahead(int n, Predicate<String> wanted, int scan) {
    return line.ahead(n, wanted, scan);
  }

  /** The job leaves memory but keeps its place; false if it has no place to keep. */
  public boolean park(String jobId) {
    if (!waiting.containsKey(jobId)) {
      return false;
    }
    addresses.remove(jobId);
    return true;
  }

  /**
   * Takes jobs the journal says are queued here as parked, in this order, whatever the queue knew of them; a full
   * queue takes them all the same, since they were let in before. Answers the grants to send again: those of jobs
   * holding a lease they never renewed, whose grant may have gone to an actor that died with its node.
   */
  public List<Granted<A>> enlist(List<EndpointCommand.QueuedJob> jobs) {
    List<Granted<A>> again = new ArrayList<>();
    for (EndpointCommand.QueuedJob job : jobs) {
      Lease held = leases.get(job.jobId());
      if (held == null) {
        overflow.remove(job.jobId());
        if (!waiting.containsKey(job.jobId())) {
          enqueue(job.jobId(), null, place(job.jobId(), new Claim(job.owner(), job.priority()), job.since()));
        } else {
          addresses.remove(job.jobId());
        }
      } else if (!held.renewed()) {
        again.add(new Granted<>(job.jobId(), null, held.leaseId()));
      }
    }
    return again;
  }

  /**
   * Keeps the job's lease alive. A lease the queue does not know (it was rebuilt after a restart) is taken as
   * held: the job still runs, so its slot is taken, even beyond {@code maxConcurrency}.
   */
  public void renew(String jobId, String leaseId, Claim claim, Instant now) {
    Lease held = leases.get(jobId);
    if (held == null) {
      WaitLine.Place old = withdraw(jobId);
      WaitLine.Place place = old != null ? old : place(jobId, claim, now);
      leases.put(jobId, new Lease(leaseId, now.plus(leaseTtl), true, place));
      load(place.owner()).inFlight++;
    } else if (held.leaseId().equals(leaseId)) {
      leases.put(jobId, new Lease(leaseId, now.plus(leaseTtl), true, held.place()));
    }
  }

  /** Returns the job's lease, or with a null {@code leaseId} withdraws its request; a stale lease id changes nothing.
   * */
  public void release(String jobId, String leaseId) {
    if (leaseId == null) {
      withdraw(jobId);
      overflow.remove(jobId);
    } else {
      Lease held = leases.get(jobId);
      if (held != null && held.leaseId().equals(leaseId)) {
        endLease(jobId, held);
      }
    }
  }

  /** Hands out free slots to waiting jobs, in the line's order; the entity sends each grant. */
  public List<Granted<A>> dispatch(Instant now) {
    List<Granted<A>> granted = new ArrayList<>();
    while (leases.size() < maxConcurrency && !waiting.isEmpty()) {
      String jobId = line.next(this::mayRunAnother);
      if (jobId == null) {
        break; // every owner waiting holds its max-in-flight
      }
      A to = addresses.remove(jobId);
      WaitLine.Place place = waiting.remove(jobId);
      Load load = load(place.owner());
      load.queued--;
      load.inFlight++;
      String leaseId = leaseIds.get();
      leases.put(jobId, new Lease(leaseId, now.plus(leaseTtl), false, place));
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
    for (Map.Entry<String, Lease> e : List.copyOf(leases.entrySet())) {
      Lease lease = e.getValue();
      if (!lease.expiresAt().isBefore(now)) {
        continue;
      }
      endLease(e.getKey(), lease);
      if (lease.renewed()) {
        freed.add(e.getKey());
      } else {
        requeued.add(e.getKey());
        if (!waiting.containsKey(e.getKey())) {
          // Behind the jobs already waiting: its grant may have gone to an actor that died with its node, and a job
          // nobody answers for must not hold up the others at the head of the line.
          WaitLine.Place old = lease.place();
          enqueue(e.getKey(), null, place(e.getKey(), new Claim(old.owner().isEmpty() ? null : old.owner(),
              old.priority()), now));
        }
      }
    }
    return new Expired(requeued, freed);
  }

  /** Empties the queue (leases stay), answering who waited, in arrival order. */
  public List<Waiter<A>> drain() {
    List<Waiter<A>> drained = new ArrayList<>();
    for (String jobId : List.copyOf(waiting.keySet())) {
      A to = addresses.get(jobId);
      withdraw(jobId);
      drained.add(new Waiter<>(jobId, to));
    }
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

  /** Waiting jobs out of memory, whose grants go through sharding. */
  public int parked() {
    return waiting.size() - addresses.size();
  }

  /** Jobs waiting for a slot that belong to {@code owner} (null: to nobody). */
  public int queuedBy(String owner) {
    Load load = loads.get(ownerKey(owner));
    return load == null ? 0 : load.queued;
  }

  /** A number that changes whenever an owner's jobs waiting or running do; {@link #owners} is the same until then. */
  public long loadChanges() {
    return loadChanges;
  }

  /** How many owners have jobs waiting or running here: the size of {@link #owners}, without building it. */
  public int ownerCount() {
    return loads.size();
  }

  /** Every owner with jobs waiting or running here, by name. */
  public List<EndpointCommand.OwnerLoad> owners() {
    List<EndpointCommand.OwnerLoad> owners = new ArrayList<>();
    new TreeMap<>(loads).forEach((owner, load) -> owners.add(new EndpointCommand.OwnerLoad(owner, load.queued,
        load.inFlight)));
    return owners;
  }

  private void enqueue(String jobId, A to, WaitLine.Place place) {
    waiting.put(jobId, place);
    address(jobId, to);
    line.add(place);
    load(place.owner()).queued++;
  }

  /** Where a waiting job's grant goes: to its actor, or with {@code to} null through sharding (it is parked). */
  private void address(String jobId, A to) {
    if (to == null) {
      addresses.remove(jobId);
    } else {
      addresses.put(jobId, to);
    }
  }

  /** Takes a waiting job out of the queue; its place, or null if it was not waiting. */
  private WaitLine.Place withdraw(String jobId) {
    WaitLine.Place place = waiting.remove(jobId);
    addresses.remove(jobId);
    if (place != null) {
      line.remove(place);
      Load load = loads.get(place.owner());
      load.queued--;
      forgetIfIdle(load);
    }
    return place;
  }

  private void endLease(String jobId, Lease lease) {
    leases.remove(jobId);
    Load load = loads.get(lease.place().owner());
    load.inFlight--;
    forgetIfIdle(load);
  }

  private boolean mayRunAnother(String owner) {
    int limit = sharing.share(owner.isEmpty() ? null : owner).maxInFlight();
    if (limit == 0) {
      return true;
    }
    Load load = loads.get(owner);
    return load == null || load.inFlight < limit;
  }

  private WaitLine.Place place(String jobId, Claim claim, Instant since) {
    // One String per owner however many of its jobs wait: the queue holds 10,000s of places.
    return new WaitLine.Place(jobId, load(ownerKey(claim.owner())).owner, claim.priority(), since.toEpochMilli(),
        places++);
  }

  private Load load(String owner) {
    loadChanges++; // every caller changes the load it gets
    return loads.computeIfAbsent(owner, Load::new);
  }

  private void forgetIfIdle(Load load) {
    loadChanges++; // every caller has just changed the load
    if (load.queued <= 0 && load.inFlight <= 0) {
      loads.remove(load.owner);
    }
  }

  private static String ownerKey(String owner) {
    return owner == null ? "" : owner;
  }
}
