package warmgate.endpoint;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import warmgate.CborSerializable;
import warmgate.job.ObjectRef;
import warmgate.job.Priority;
import warmgate.provider.EndpointProvider;
import warmgate.provider.ProviderState;

/**
 * What an {@link EndpointEntity} is told, and what it answers. Sent between nodes, never stored: builds before the
 * split knew these as nested classes of {@code EndpointLifecycle}, and {@link RenamedMessages} still reads those.
 */
public sealed interface EndpointCommand extends CborSerializable {

  /**
   * Asks for a slot for a job. Answered with a {@link Grant} now or once the endpoint is warm (the job repeats
   * it until then), or with {@link Unavailable} while the endpoint is FAILED.
   *
   * @param mayPark the job leaves memory as soon as the endpoint holds its place ({@code park-at-once}): unless its
   *     turn is near, the endpoint keeps its place by id and answers {@link Parked} at once, and a place kept so stays
   *     kept (a later ask of the job does not give its actor back), so a grant always reaches it through
   *     {@link ParkedJobs}, in memory or not
   */
  record Acquire(String jobId, String owner, Priority priority, ActorRef<SlotReply> replyTo, boolean mayPark)
      implements EndpointCommand {
    /** A job that stays in memory while it waits (until {@code park-after}). */
    public Acquire(String jobId, String owner, Priority priority, ActorRef<SlotReply> replyTo) {
      this(jobId, owner, priority, replyTo, false);
    }
  }

  /**
   * Keeps a granted lease alive; after this actor restarted, it also tells it the slot is taken, and by whose job:
   * the owner's {@code max-in-flight} counts it.
   */
  record Renew(String jobId, String leaseId, String owner, Priority priority) implements EndpointCommand {
    /** A renewal that does not say whose the job is (an older node's): a lease rebuilt from it counts as nobody's. */
    public Renew(String jobId, String leaseId) {
      this(jobId, leaseId, null, Priority.INTERACTIVE);
    }
  }

  /** Returns the job's lease, or withdraws its request for one when {@code leaseId} is null. */
  record Release(String jobId, String leaseId) implements EndpointCommand {}

  /**
   * The job, queued here, wants to leave memory while it waits: answered with {@link Parked} if it holds a place in
   * the queue (its grant will then come through {@link ParkedJobs#deliver}), not at all otherwise (the job keeps
   * asking).
   */
  record Park(String jobId, ActorRef<SlotReply> replyTo) implements EndpointCommand {}

  /**
   * Jobs the journal says are queued here, perhaps parked, which this actor may not know after a restart: they take
   * places in the queue, in this order, reached through {@link ParkedJobs#deliver}. Answered once held. One message
   * for many jobs: a restart enlists every queued job, and one ask each cost more than the rest of the restart.
   */
  record Enlist(List<QueuedJob> jobs, ActorRef<Done> replyTo) implements EndpointCommand {}

  /**
   * A job queued here as its journal says, for {@link Enlist}: whose it is and how urgent decide its turn, and
   * {@code since} (when it was queued) keeps its place among the others of its owner.
   */
  record QueuedJob(String jobId, String owner, Priority priority, Instant since) implements CborSerializable {}

  record Get(ActorRef<View> replyTo) implements EndpointCommand {}

  /**
   * Pre-warms by hand: a cold or FAILED endpoint starts at once (a start backoff is cut short, the failure
   * cleared), a warm one has its idle clock reset. Refused while the endpoint is stopping.
   */
  record Start(ActorRef<StatusReply<View>> replyTo) implements EndpointCommand {}

  /**
   * Stops by hand a warm endpoint that has nothing queued or running; refused otherwise, because the next job
   * would start it again straight away. A cold or stopping endpoint answers as it is.
   */
  record Stop(ActorRef<StatusReply<View>> replyTo) implements EndpointCommand {}

  /**
   * A hint from a job still waiting for an input (its route warms on first input): a cold endpoint starts now, so its
   * cold start overlaps the rest of the upload; a warm one has its idle clock reset. Holds no slot and answers
   * nothing; a starting endpoint has nothing to do, and a stopping or FAILED one ignores it (the job's own
   * {@link Acquire} starts it again, or learns it is unavailable). Each job sends it at most once.
   */
  record WarmUp(String jobId) implements EndpointCommand {}

  /**
   * The provider pushed a change (EventBridge's {@code SageMaker Endpoint State Change}, or the provider's own
   * {@link EndpointProvider#watch}, e.g. a local model process whose ping starts passing). Taken as a reason to
   * ask the provider now, not as the truth: pushed events can arrive late and out of order, and acting on a
   * stale "InService" could restart an endpoint that was just deleted.
   */
  record ProviderReported(String status) implements EndpointCommand {}

  /** The provider's answer to describe. Sent by the entity to itself. */
  record Described(ProviderState state) implements EndpointCommand {}

  /** A provider call that failed; {@code operation} is describe, start or stop. Sent by the entity to itself. */
  record ProviderCallFailed(String operation, String reason) implements EndpointCommand {}

  /** The provider accepted a start or stop request. Sent by the entity to itself. */
  record ProviderCallDone(String operation) implements EndpointCommand {}

  enum Tick implements EndpointCommand {
    INSTANCE
  }

  /**
   * An object was written under the endpoint's result path (an asynchronous endpoint's output or failure path). The
   * endpoint cannot tell whose answer it is, so every job holding a slot hears of it ({@link ResultMayBeThere}) and
   * the one waiting for it looks at once instead of at its next look.
   */
  record ResultLanded(ObjectRef location) implements EndpointCommand {}

  /**
   * Sharding's stop message: this entity leaves its node (a hand-off, or the node shutting down). A node-local
   * endpoint (a model process) cannot outlive the node, so it is stopped and the stop persisted before the entity
   * stops; a remote one runs on, and the entity's next home adopts it.
   */
  enum Leave implements EndpointCommand {
    INSTANCE
  }

  /** The node-local endpoint stopped as this entity leaves; {@code failure} is null if the stop worked. Sent by the
   * entity to itself. */
  record StoppedToLeave(String failure) implements EndpointCommand {}

  // ---- Replies

  /** What the endpoint tells a job: the answer to {@link Acquire}, and news for the jobs holding its slots. */
  sealed interface SlotReply extends CborSerializable {}

  /** A slot on a warm endpoint; it lapses unless renewed within {@code ttl}. */
  record Grant(String endpoint, String jobId, String leaseId, Duration ttl) implements SlotReply {}

  /** The endpoint is FAILED and takes no jobs; ask again after {@code retryAfter}. */
  record Unavailable(String endpoint, String jobId, String reason, Duration retryAfter) implements SlotReply {}

  /** The answer to {@link Park}: the job's place in the queue no longer needs its actor. */
  record Parked(String endpoint, String jobId) implements SlotReply {}

  /**
   * To a parked job, through {@link ParkedJobs}: its turn is near (within one round of the endpoint's slots), so it
   * comes back into memory now, and its recovery (a journal read) is done before its grant comes instead of after.
   */
  record TurnNear(String endpoint, String jobId) implements SlotReply {}

  /** {@link ResultLanded}, passed on to a job holding a slot: its answer may be at {@code location}. */
  record ResultMayBeThere(String endpoint, String jobId, ObjectRef location) implements SlotReply {}

  /**
   * What {@code GET /v1/endpoints/{name}} shows.
   *
   * @param since when the endpoint entered its phase; null if it never left the initial cold phase
   * @param billedSeconds unit-seconds (time × the instances or copies the provider bills) from every start request to
   *     the matching stop, counting the open one
   * @param detail the provider's last word on the endpoint, or the reason of the last failure
   * @param overflow jobs that asked for a slot while the queue was full (max-queued) and were not let in: they wait
   *     in their own journals and ask again. Admission counts them with {@code queued}, so that a full queue stops
   *     new work instead of letting a backlog grow outside it.
   * @param parked of the {@code queued}, those out of memory ({@link Park}): their grants wake them
   * @param configuration the provider configuration the endpoint is being started from or serves (after a capacity
   *     fallback, the one that had capacity); null while nothing runs, or when the provider has only one
   * @param owners the owners with jobs queued or running here, by name ("" for jobs without an owner)
   */
  record View(
      String name, EndpointLifecycle.Phase state, int queued, int inFlight, Instant since, long billedSeconds,
          String detail, int overflow,
      int parked, String configuration, List<OwnerLoad> owners)
      implements CborSerializable {
    public View {
      owners = owners == null ? List.of() : List.copyOf(owners);
    }

    public View(String name, EndpointLifecycle.Phase state, int queued, int inFlight, Instant since,
        long billedSeconds, String detail, int overflow, int parked) {
      this(name, state, queued, inFlight, since, billedSeconds, detail, overflow, parked, null, List.of());
    }

    /** Jobs of {@code owner} queued here (null: jobs without an owner). */
    public int queuedBy(String owner) {
      String key = owner == null ? "" : owner;
      for (OwnerLoad load : owners) {
        if (load.owner().equals(key)) {
          return load.queued();
        }
      }
      return 0;
    }
  }

  /** One owner's jobs at an endpoint: waiting for a slot, and holding one. */
  record OwnerLoad(String owner, int queued, int inFlight) implements CborSerializable {}
}
