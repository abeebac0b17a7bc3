package warmgate.endpoint;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.EndpointCommand.Acquire;
import warmgate.endpoint.EndpointCommand.Enlist;
import warmgate.endpoint.EndpointCommand.Grant;
import warmgate.endpoint.EndpointCommand.Park;
import warmgate.endpoint.EndpointCommand.Parked;
import warmgate.endpoint.EndpointCommand.Release;
import warmgate.endpoint.EndpointCommand.Renew;
import warmgate.endpoint.EndpointCommand.ResultLanded;
import warmgate.endpoint.EndpointCommand.ResultMayBeThere;
import warmgate.endpoint.EndpointCommand.SlotReply;
import warmgate.endpoint.EndpointCommand.TurnNear;
import warmgate.endpoint.EndpointCommand.Unavailable;
import warmgate.endpoint.EndpointCommand.View;
import warmgate.endpoint.EndpointLifecycle.Cold;
import warmgate.endpoint.EndpointLifecycle.Failed;
import warmgate.endpoint.EndpointLifecycle.State;

/**
 * The jobs of one endpoint, with no actor in it: its {@link SlotQueue} and how an answer reaches a job (its actor, or
 * {@link ParkedJobs} for a parked one); when the endpoint last had work, so the entity knows once it has been idle
 * as long as its {@link KeepWarmPolicy} says; and when a FAILED endpoint last refused a job. Runtime state, never
 * persisted (see {@link EndpointEntity}). The entity asks it whatever it does with jobs, in every phase.
 */
final class EndpointJobs {
  /**
   * Rounds of slots ({@code max-concurrency} jobs each) kept awake ahead of their grants. With one round a slot freed
   * by a model that answers at once would find its next job still recovering whenever a recovery takes longer than
   * a call. Each awake job costs a live entity (about 5 KiB), so two rounds of 256 slots are 2.5 MiB.
   */
  static final int AWAKE_ROUNDS = 2;

  /** How long a refused job waits before it asks a FAILED endpoint again. */
  static final Duration UNAVAILABLE_RETRY_AFTER = Duration.ofMinutes(1);

  private final EndpointSettings settings;
  private final Clock clock;
  private final ParkedJobs parked;
  private final Logger log;
  /** A parked job's address is null: its grant goes through {@link #parked}. */
  private final SlotQueue<ActorRef<SlotReply>> queue;
  private KeepWarmPolicy keepWarm;
  private Instant lastActivity;
  /**
   * When a job waiting for an input last asked the endpoint to stay warm ({@link EndpointCommand.WarmUp}). Apart from
   * {@code lastActivity}, which also measures the idle gaps the keep-warm policy learns from: the gap a job ends
   * still runs to its own ask, as without the hint.
   */
  private Instant lastWarmUp;
  /**
   * Whether {@code lastActivity} marks the end of a job here, so that the next job's arrival measures a real idle
   * gap; false until the first job after the entity started or recovered.
   */
  private boolean gapMeasurable;
  /** When a job was last refused by this FAILED endpoint: jobs still want it, so a retry start is worth it. */
  private Instant lastRefusal;
  /**
   * Waiting jobs of {@code park-at-once} kept in memory, or called back into it ({@link TurnNear}), because their
   * turn is near: at most {@link #AWAKE_ROUNDS} rounds of slots, so that a grant finds its job recovered.
   */
  private final Set<String> awake = new HashSet<>();
  /** Whether the queue may hold parked jobs not yet called back: false once a look found none, true on any park. */
  private boolean mayHoldParked;

  EndpointJobs(EndpointSettings settings, Clock clock, ParkedJobs parked, Logger log) {
    this.settings = settings;
    this.clock = clock;
    this.parked = parked;
    this.log = log;
    this.queue = new SlotQueue<>(settings.maxQueued(), settings.maxConcurrency(), settings.leaseTtl(),
        () -> UUID.randomUUID().toString(), settings.queue());
    this.lastActivity = clock.instant();
    this.keepWarm = KeepWarmPolicy.of(settings);
  }

  int queued() {
    return queue.queued();
  }

  int inFlight() {
    return queue.inFlight();
  }

  List<EndpointCommand.OwnerLoad> owners() {
    return queue.owners();
  }

  int ownerCount() {
    return queue.ownerCount();
  }

  /** Changes whenever {@link #owners} does. */
  long ownerLoadChanges() {
    return queue.loadChanges();
  }

  /** Nothing queued, nothing running. */
  boolean idle() {
    return queue.idle();
  }

  /** The endpoint had work (or came into service) at {@code at}: its idle time counts from there. */
  void active(Instant at) {
    lastActivity = at;
  }

  /** A job whose inputs are on their way wants the endpoint warm at {@code at}: the idle time counts from there. */
  void warmedUp(Instant at) {
    lastWarmUp = at;
  }

  /** Whether the endpoint has been idle for as long as the keep-warm policy keeps it warm. */
  boolean idleLongEnough(Instant now) {
    Instant idleSince = lastWarmUp != null && lastWarmUp.isAfter(lastActivity) ? lastWarmUp : lastActivity;
    return queue.idle() && Duration.between(idleSince, now).compareTo(keepWarm.keepWarmFor()) >= 0;
  }

  /** Why an idle endpoint stops, in the policy's words. */
  String whyStopIdle() {
    return keepWarm.explain();
  }

  /** Queues the job, or answers it with the lease it holds already. */
  void ask(Acquire cmd) {
    Instant now = clock.instant();
    if (queue.isNew(cmd.jobId())) {
      learnArrival();
    }
    lastActivity = now;
    SlotQueue.Answer answer = queue.ask(cmd.jobId(), new SlotQueue.Claim(cmd.owner(), cmd.priority()), cmd.replyTo(),
        now, cmd.mayPark());
    if (answer instanceof SlotQueue.Held held) {
      // The job asked again before our grant reached it; the same lease answers.
      cmd.replyTo().tell(grant(cmd.jobId(), held.leaseId()));
    } else if (answer instanceof SlotQueue.Full full) {
      // The job stays queued in its own journal and asks again on its timer.
      log.debug("Endpoint {}: queue full ({}), job {} will ask again", settings.name(), full.queued(), cmd.jobId());
    }
  }

  /**
   * After an ask (and, on a warm endpoint, the grants it brought): a job that may park and still waits leaves memory
   * now, its place kept by id, unless its turn is near. Near: the endpoint serves, and the job is awake already or
   * the whole queue fits in one round of slots with room among the awake. Cold, starting or stopping, or behind a
   * longer queue, a job would wait in memory for nothing; the ones at the head are called back before their slots
   * come ({@link #dispatch}).
   */
  void settle(Acquire cmd, boolean serving) {
    String jobId = cmd.jobId();
    if (!cmd.mayPark() || !queue.isWaiting(jobId)) {
      return;
    }
    int round = settings.maxConcurrency();
    if (serving && (awake.contains(jobId) || awake.size() < awakeAtMost() && queue.queued() <= round)) {
      awake.add(jobId);
      return;
    }
    awake.remove(jobId);
    queue.park(jobId);
    mayHoldParked = true;
    cmd.replyTo().tell(new Parked(settings.name(), jobId));
  }

  private int awakeAtMost() {
    return AWAKE_ROUNDS * settings.maxConcurrency();
  }

  /** Holds the job's place for it while it is out of memory; see {@link Park}. */
  void park(Park cmd) {
    if (queue.park(cmd.jobId())) {
      awake.remove(cmd.jobId());
      mayHoldParked = true;
      cmd.replyTo().tell(new Parked(settings.name(), cmd.jobId()));
    }
  }

  /**
   * Takes queued jobs from the journal into the queue as parked (see {@link SlotQueue#enlist}): after a restart the
   * entity knew nothing of them, and after a node was lost the actor it knew may be gone. A job still in memory keeps
   * asking and so gets its actor back; a grant through {@link ParkedJobs} reaches it either way.
   */
  void enlist(Enlist cmd) {
    if (!cmd.jobs().stream().allMatch(job -> queue.holdsLease(job.jobId()))) {
      lastActivity = clock.instant();
    }
    mayHoldParked = true;
    for (SlotQueue.Granted<ActorRef<SlotReply>> again : queue.enlist(cmd.jobs())) {
      parked.deliver(again.jobId(), grant(again.jobId(), again.leaseId()));
    }
    cmd.replyTo().tell(Done.getInstance());
  }

  void renew(Renew cmd) {
    queue.renew(cmd.jobId(), cmd.leaseId(), new SlotQueue.Claim(cmd.owner(), cmd.priority()), clock.instant());
    lastActivity = clock.instant();
  }

  void release(Release cmd) {
    lastActivity = clock.instant();
    queue.release(cmd.jobId(), cmd.leaseId());
    if (cmd.leaseId() == null) {
      awake.remove(cmd.jobId());
    }
  }

  /** Passes word of an answer on to every job holding a slot; only the one whose answer it is acts on it. */
  void resultLanded(ResultLanded cmd) {
    for (String jobId : queue.leaseHolders()) {
      parked.deliver(jobId, new ResultMayBeThere(settings.name(), jobId, cmd.location()));
    }
  }

  /**
   * Grants the free slots to the jobs next in the queue, then calls back into memory the parked jobs whose turn is
   * near, up to {@link #AWAKE_ROUNDS} rounds of slots awake: a parked job's grant would otherwise wait for its
   * recovery (a journal read), slot after slot.
   */
  void dispatch() {
    for (SlotQueue.Granted<ActorRef<SlotReply>> granted : queue.dispatch(clock.instant())) {
      awake.remove(granted.jobId());
      tell(granted.jobId(), granted.to(), grant(granted.jobId(), granted.leaseId()));
    }
    int room = awakeAtMost() - awake.size();
    if (room <= 0 || !mayHoldParked) {
      return;
    }
    // Awake jobs and jobs in memory are looked past; a look through a whole line finding none stops the looks.
    int scan = room + awake.size() + awakeAtMost();
    List<String> near = queue.ahead(room, jobId -> queue.isParked(jobId) && !awake.contains(jobId), scan);
    if (near.size() < room && queue.queued() <= scan) {
      mayHoldParked = false;
    }
    for (String jobId : near) {
      awake.add(jobId);
      parked.deliver(jobId, new TurnNear(settings.name(), jobId));
    }
  }

  /** Lets the queue drop leases and overflowing jobs gone silent, and says which. */
  void expireStale() {
    SlotQueue.Expired expired = queue.expire(clock.instant());
    if (!expired.requeued().isEmpty()) {
      mayHoldParked = true; // back in the line without an address: parked, to be called back like the others
    }
    expired.requeued().forEach(jobId -> log.warn(
        "Endpoint {}: job {} never took up the slot granted to it; it waits in the queue again", settings.name(),
            jobId));
    expired.freed().forEach(jobId -> log.warn(
        "Endpoint {}: lease of job {} expired unrenewed; its slot is free again", settings.name(), jobId));
  }

  // ---- A FAILED endpoint's jobs

  /** Tells a job asking a FAILED endpoint to ask again later. */
  void refuse(Acquire cmd, String reason) {
    lastRefusal = clock.instant();
    cmd.replyTo().tell(unavailable(cmd.jobId(), reason));
  }

  /** Tells enlisted jobs of a FAILED endpoint, through {@link ParkedJobs}, to ask again later. */
  void refuse(Enlist cmd, String reason) {
    lastRefusal = clock.instant();
    cmd.jobs().forEach(job -> parked.deliver(job.jobId(), unavailable(job.jobId(), reason)));
    cmd.replyTo().tell(Done.getInstance());
  }

  /** Empties the queue, telling every job in it to ask again later: the endpoint has just FAILED. */
  void refuseWaiting(String reason) {
    awake.clear();
    queue.drain().forEach(w -> tell(w.jobId(), w.to(), unavailable(w.jobId(), reason)));
  }

  /** Whether jobs refused by this FAILED endpoint still ask: one did within three of their waits. */
  boolean refusedJobsStillAsk(Instant now) {
    return lastRefusal != null && Duration.between(lastRefusal,
        now).compareTo(UNAVAILABLE_RETRY_AFTER.multipliedBy(3)) < 0;
  }

  /** What {@code GET /v1/endpoints} shows; {@code detail} is the provider's last word unless a failure says more. */
  View view(State state, String detail) {
    String why = state instanceof Cold c && c.lastFailure() != null ? c.lastFailure()
        : state instanceof Failed f ? f.reason() : detail;
    return new View(settings.name(), state.phase(), queue.queued(), queue.inFlight(), state.since(),
        state.ledger().billedSeconds(clock.instant()), why, queue.overflow(), queue.parked(), state.configuration(),
        queue.owners());
  }

  /**
   * Tells the keep-warm policy a new job asks for a slot. One asking while nothing was queued or running ends an idle
   * gap, whether the endpoint stopped meanwhile or not.
   */
  private void learnArrival() {
    Instant now = clock.instant();
    Duration gap = gapMeasurable && queue.idle() ? Duration.between(lastActivity, now) : null;
    keepWarm = keepWarm.jobArrived(now, gap);
    gapMeasurable = true;
  }

  private Grant grant(String jobId, String leaseId) {
    return new Grant(settings.name(), jobId, leaseId, settings.leaseTtl());
  }

  private Unavailable unavailable(String jobId, String reason) {
    Duration retryAfter = settings.failedRetryAfter().isZero() ? UNAVAILABLE_RETRY_AFTER
        : min(UNAVAILABLE_RETRY_AFTER, settings.failedRetryAfter());
    return new Unavailable(settings.name(), jobId, "endpoint " + settings.name() + " is FAILED: " + reason, retryAfter);
  }

  /** To the job's actor, or through {@link ParkedJobs} to a parked job (null {@code replyTo}). */
  private void tell(String jobId, ActorRef<SlotReply> replyTo, SlotReply reply) {
    if (replyTo != null) {
      replyTo.tell(reply);
    } else {
      parked.deliver(jobId, reply);
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
