package warmgate.request;

import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.RecipientRef;
import warmgate.endpoint.EndpointCommand;
import warmgate.job.JobSpec;

/**
 * What a job says to its endpoint about slots (ask, park, renew, give back), whether its place is parked, and the
 * one warm-up hint a job waiting for an input may send. Needs no actor: the endpoint is a recipient, and the answers
 * go to {@code replyTo}, the job's adapter.
 */
final class Slots {
  private final String jobId;
  private final Function<String, RecipientRef<EndpointCommand>> endpoints;
  private final ActorRef<EndpointCommand.SlotReply> replyTo;
  /** Whether the job asked for a slot again after its last {@link EndpointCommand.Park}: the ask may have undone it. */
  private boolean askedSincePark;
  /** The endpoint holds this queued job's place and it is leaving memory; its grant will wake it through sharding. */
  private boolean parked;
  /** The job asked its endpoint to warm up already: once per job, however often its missing inputs change. */
  private boolean warmedUp;
  /** The job parks as soon as its endpoint holds its place ({@code park-at-once}). */
  private final boolean parkAtOnce;

  Slots(String jobId, Function<String, RecipientRef<EndpointCommand>> endpoints,
      ActorRef<EndpointCommand.SlotReply> replyTo, boolean parkAtOnce) {
    this.jobId = jobId;
    this.endpoints = endpoints;
    this.replyTo = replyTo;
    this.parkAtOnce = parkAtOnce;
  }

  /**
   * Asks the endpoint to start before the job's inputs are all there ({@link EndpointCommand.WarmUp}), unless this
   * job did already; true if it asked now. A burst of images is one hint per job, each cheap for an endpoint already
   * starting or warm, never a slot.
   */
  boolean warmUp(String endpoint) {
    if (warmedUp) {
      return false;
    }
    warmedUp = true;
    endpoints.apply(endpoint).tell(new EndpointCommand.WarmUp(jobId));
    return true;
  }

  /**
   * Asks the job's endpoint for a slot, saying whose the job is and how urgent: that decides its turn. With
   * {@code park-at-once} the ask is also a park, and a parked place stays parked whatever the job asks later, so an
   * ask never undoes a park.
   */
  void ask(JobSpec spec) {
    askedSincePark = !parkAtOnce;
    endpoints.apply(spec.endpoint()).tell(new EndpointCommand.Acquire(jobId, spec.owner(), spec.priority(), replyTo,
        parkAtOnce));
  }

  /** Asks the endpoint to keep the job's place by id. */
  void park(String endpoint) {
    askedSincePark = false;
    endpoints.apply(endpoint).tell(new EndpointCommand.Park(jobId, replyTo));
  }

  /**
   * The endpoint answered a park; true: the job may leave memory. Not if it asked for a slot since: that ask,
   * answered after the park, gave the endpoint the job's actor to send the grant to, and the grant would be lost.
   */
  boolean parkAccepted() {
    if (askedSincePark) {
      return false;
    }
    parked = true;
    return true;
  }

  boolean parked() {
    return parked;
  }

  /** Keeps the job's lease; whose the job is goes along, for an endpoint that lost its leases and rebuilds them. */
  void renew(JobSpec spec, String leaseId) {
    endpoints.apply(spec.endpoint()).tell(new EndpointCommand.Renew(jobId, leaseId, spec.owner(), spec.priority()));
  }

  /** Returns a lease, or with {@code leaseId} null takes the job out of the endpoint's queue. */
  void release(String endpoint, String leaseId) {
    endpoints.apply(endpoint).tell(new EndpointCommand.Release(jobId, leaseId));
  }

  void giveBack(EndpointCommand.Grant grant) {
    release(grant.endpoint(), grant.leaseId());
  }
}
