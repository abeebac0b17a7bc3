package warmgate.request;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotSelectionCriteria;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandlerBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.Recovery;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.MDC;
import warmgate.Backoff;
import warmgate.CborSerializable;
import warmgate.Failures;
import warmgate.blob.BlobInfo;
import warmgate.blob.BlobRefusedException;
import warmgate.Json;
import warmgate.config.RequestSettings;
import warmgate.config.WebhookSettings;
import warmgate.endpoint.EndpointLifecycle;
import warmgate.provider.InferenceException;
import warmgate.endpoint.EndpointCommand;
import warmgate.job.JobSpec;
import warmgate.job.JobStatus;
import warmgate.job.ObjectRef;
import warmgate.logging.EntityMdc;

/**
 * One job, from submission to its end; sharded by job id and event-sourced, so it never forgets where it is.
 *
 * <p>A submitted job first waits until its inputs exist (an image may arrive before its mask), then asks its
 * endpoint for a slot, runs the inference step under that lease, and ends succeeded or failed. Transient
 * failures are retried with exponential backoff and jitter up to {@code max-attempts}. After a crash it
 * resumes: a queued job asks for a slot again, and a job that was running looks for the output it may have
 * written before it died: found, it succeeded; not found, the attempt counts as interrupted and is retried.
 *
 * <p>A job that asked for review holds its result aside in {@code AWAITING_REVIEW} until it is approved
 * (published to the output) or rejected. A failed job writes {@code {base}_error.json} beside its output and
 * can be redriven; a report that can never be written (its reference breaks the key rules, or the store refuses
 * it for good) is given up ({@link ErrorReportAbandoned}) rather than retried forever. A job whose inputs can never
 * exist, or whose result can never be written, fails as soon as it would look for its inputs. With a {@code callbackUrl}, every end (and the wait for review) is reported by a signed
 * webhook, retried with backoff apart from the job's own progress. Those duties are persisted, so a job
 * stays in memory until they are done.
 *
 * <p>A job queued for longer than {@code park-after} parks: once its endpoint holds its place by id
 * ({@link EndpointCommand.Park}), its actor stops, and the endpoint's grant, sent through sharding, starts it
 * again as QUEUED to take the slot.
 *
 * <p>Sharding does not remember jobs. A job with work left ({@link #hasWork}) is started again by the read
 * side's waker after a restart or the loss of a node (a queued one is enlisted with its endpoint instead), and
 * by itself when its shard moves (see {@link Stop}).
 */
public final class Request
    extends EventSourcedBehaviorWithEnforcedReplies<Request.Command, Request.Event, Request.State> {

  // ---- Commands

  public sealed interface Command extends CborSerializable {}

  /** Creates the job, or answers that it exists: a redelivered notification lands here as a duplicate. */
  public record Submit(JobSpec spec, ActorRef<StatusReply<Submitted>> replyTo) implements Command {}

  public record Get(ActorRef<JobLookup> replyTo) implements Command {}

  /**
   * Ends a waiting, queued, retrying or running job; the answer is the cancelled job, or a lookup of null when
   * no job has this id. A finished job refuses (an error reply); a cancelled one answers as it is.
   */
  public record Cancel(String reason, ActorRef<StatusReply<JobLookup>> replyTo) implements Command {}

  /** Redrives a failed job from the start (its inputs are looked for again), with a fresh attempt budget. */
  public record Retry(String reason, ActorRef<StatusReply<JobLookup>> replyTo) implements Command {}

  /** Publishes the result of a job awaiting review to its output; the job succeeds. */
  public record Approve(String reviewer, ActorRef<StatusReply<JobLookup>> replyTo) implements Command {}

  /** Throws away the result of a job awaiting review; the job fails with the reason. */
  public record Reject(String reviewer, String reason, ActorRef<StatusReply<JobLookup>> replyTo) implements Command {}

  /** The endpoint's answer to our request for a slot. */
  public record Granted(EndpointCommand.Grant grant) implements Command {}

  /** The endpoint is FAILED and takes no jobs for now. */
  public record EndpointRefused(EndpointCommand.Unavailable refusal) implements Command {}

  /** The endpoint holds the job's place in its queue by id: the job may leave memory. */
  record ParkAccepted(EndpointCommand.Parked parked) implements Command {}

  record InputsChecked(List<String> missing, String failure) implements Command {}

  /** The job can never run: an input can never exist, or its result can never be written. */
  record CannotRun(String reason) implements Command {}

  record AttemptFinished(int attempt, String outputETag, InferenceException.Kind failureKind, String failure) implements Command {
    static AttemptFinished succeeded(int attempt, BlobInfo output) {
      return new AttemptFinished(attempt, output.eTag(), null, null);
    }
  }

  /** What a job recovered as running found at its output. */
  record OutputChecked(int attempt, String outputETag, boolean written, String failure) implements Command {}

  /** The approved result was published (or could not be). */
  record Published(String reviewer, String outputETag, String failure, ActorRef<StatusReply<JobLookup>> replyTo) implements Command {}

  record ErrorReportWritten(String eTag, String failure) implements Command {}

  /** {@code {base}_error.json} can never be written: its reference breaks the key rules, or the store refuses it. */
  record ErrorReportRefused(String reason) implements Command {}

  record CallbackAnswered(JobStatus status, int attempt, int httpStatus, String failure) implements Command {}

  /**
   * Starts the job's actor, if it is not running, and does nothing else: recovery resumes whatever the job
   * was doing. The read side's waker sends it to every job that has work left after a restart, and waits for
   * the answer, sent once the job has recovered: a wake sent while sharding still routes to a node that is
   * gone is lost, and is sent again.
   *
   * @param replyTo answered {@code Done}; null: no answer
   */
  public record Wake(ActorRef<Done> replyTo) implements Command {}

  /**
   * What sharding sends instead of stopping the actor outright, on passivation and when the job's shard moves
   * to another node. A job with work left asks, through sharding, to be woken at the shard's new home before
   * it stops: the region holds that message until the hand-off is done, so the job continues there.
   */
  public enum Stop implements Command {
    INSTANCE
  }

  enum Timer implements Command {
    ACQUIRE_AGAIN,
    CHECK_INPUTS,
    RENEW_LEASE,
    RETRY_DUE,
    REPORT_ERROR,
    DELIVER_CALLBACK,
    PASSIVATE,
    PARK
  }

  // ---- Replies

  /**
   * @param duplicate the job already existed; nothing new was created
   * @param sameRequest for a duplicate, whether it was submitted with the same spec (an Idempotency-Key
   *     reused for a different request is not)
   */
  public record Submitted(JobView job, boolean duplicate, boolean sameRequest) implements CborSerializable {}

  /**
   * A job as users see it (docs/api.md, `GET /v1/jobs/{jobId}`).
   *
   * @param heldOutput where the result awaiting review can be looked at; null otherwise
   */
  public record JobView(
      String jobId,
      JobStatus status,
      String endpoint,
      String owner,
      int attempts,
      Instant createdAt,
      Instant updatedAt,
      Map<String, String> inputs,
      String output,
      String error,
      String heldOutput)
      implements CborSerializable {}

  /** The job, or null when no job has this id. */
  public record JobLookup(JobView job) implements CborSerializable {}

  // ---- Events

  public sealed interface Event extends CborSerializable {
    Instant at();
  }

  public record JobSubmitted(String jobId, JobSpec spec, Instant inputsDeadline, Instant at) implements Event {}

  public record InputsMissing(List<String> missing, Instant at) implements Event {}

  public record JobQueued(Instant at) implements Event {}

  public record AttemptStarted(int attempt, String leaseId, Instant at) implements Event {}

  /** A transient failure; the job tries again at {@code retryAt}. */
  public record AttemptFailed(int attempt, String error, Instant retryAt, Instant at) implements Event {}

  public record JobSucceeded(int attempt, String outputETag, Instant at) implements Event {}

  public record JobFailed(String error, Instant at) implements Event {}

  public record JobCancelled(String reason, Instant at) implements Event {}

  /** The endpoint refused the job for now (it is FAILED); no attempt was used. */
  public record EndpointUnavailable(String reason, Instant retryAt, Instant at) implements Event {}

  /** The result of {@code attempt} was written aside and waits for a reviewer. */
  public record ResultHeld(int attempt, String heldETag, Instant at) implements Event {}

  public record ResultApproved(String reviewer, String outputETag, Instant at) implements Event {}

  public record ResultRejected(String reviewer, String reason, Instant at) implements Event {}

  /** {@code {base}_error.json} was written for the failure. */
  public record ErrorReported(String eTag, Instant at) implements Event {}

  /**
   * {@code {base}_error.json} can never be written (its reference breaks the key rules, or the store refuses it
   * for good): the job no longer owes it.
   */
  public record ErrorReportAbandoned(String reason, Instant at) implements Event {}

  /** A failed job was sent round again; {@code inputsDeadline} bounds its new wait for inputs. */
  public record JobRetried(String reason, Instant inputsDeadline, Instant at) implements Event {}

  public record CallbackDelivered(JobStatus status, int attempt, int httpStatus, Instant at) implements Event {}

  /** A delivery failed; tried again at {@code retryAt}, or given up when it is null. */
  public record CallbackFailed(JobStatus status, int attempt, String error, Instant retryAt, Instant at) implements Event {}

  // ---- State

  public sealed interface State extends CborSerializable {}

  /** No job has this id (yet). */
  public record Blank() implements State {}

  /**
   * What every stage of a job knows.
   *
   * @param attempts attempts made in all runs
   * @param runStart attempts made before the current run (a redrive starts a new run with a fresh budget)
   * @param redrives how often the job was redriven
   * @param callback the notice the callback still has to deliver, or null
   */
  public record JobCore(
      String jobId, JobSpec spec, int attempts, int runStart, int redrives, Instant createdAt, Instant updatedAt,
      Callback callback) implements CborSerializable {

    JobCore touched(Instant at) {
      return new JobCore(jobId, spec, attempts, runStart, redrives, createdAt, at, callback);
    }

    JobCore attempted(int attempt, Instant at) {
      return new JobCore(jobId, spec, attempt, runStart, redrives, createdAt, at, callback);
    }

    /** Entering a status the callback reports; a notice not yet delivered is replaced by the newer one. */
    JobCore reaching(JobStatus status, Instant at) {
      Callback next = spec.callbackUrl() == null ? null : new Callback(status, 0, null);
      return new JobCore(jobId, spec, attempts, runStart, redrives, createdAt, at, next);
    }

    JobCore redriven(Instant at) {
      return new JobCore(jobId, spec, attempts, attempts, redrives + 1, createdAt, at, null);
    }

    JobCore withCallback(Callback next) {
      return new JobCore(jobId, spec, attempts, runStart, redrives, createdAt, updatedAt, next);
    }
  }

  /**
   * A notice the callback still owes.
   *
   * @param failures deliveries that failed so far
   * @param retryAt when to deliver next; null: now
   */
  public record Callback(JobStatus status, int failures, Instant retryAt) implements CborSerializable {}

  public sealed interface Job extends State {
    JobCore core();

    JobStatus status();

    /** The same stage with {@code core} in place of its own. */
    Job with(JobCore core);

    default String error() {
      return null;
    }
  }

  /** @param missing input names not found at the last look; all of them before the first */
  public record WaitingForInputs(JobCore core, List<String> missing, Instant deadline) implements Job {
    public JobStatus status() {
      return JobStatus.WAITING_FOR_INPUTS;
    }

    public Job with(JobCore core) {
      return new WaitingForInputs(core, missing, deadline);
    }
  }

  public record Queued(JobCore core) implements Job {
    public JobStatus status() {
      return JobStatus.QUEUED;
    }

    public Job with(JobCore core) {
      return new Queued(core);
    }
  }

  public record Running(JobCore core, int attempt, String leaseId) implements Job {
    public JobStatus status() {
      return JobStatus.RUNNING;
    }

    public Job with(JobCore core) {
      return new Running(core, attempt, leaseId);
    }
  }

  public record RetryWait(JobCore core, Instant retryAt, String error) implements Job {
    public JobStatus status() {
      return JobStatus.RETRY_WAIT;
    }

    public Job with(JobCore core) {
      return new RetryWait(core, retryAt, error);
    }
  }

  /** The result of {@code attempt} is held aside until a reviewer approves or rejects it. */
  public record AwaitingReview(JobCore core, int attempt, String heldETag) implements Job {
    public JobStatus status() {
      return JobStatus.AWAITING_REVIEW;
    }

    public Job with(JobCore core) {
      return new AwaitingReview(core, attempt, heldETag);
    }
  }

  public record Succeeded(JobCore core, String outputETag) implements Job {
    public JobStatus status() {
      return JobStatus.SUCCEEDED;
    }

    public Job with(JobCore core) {
      return new Succeeded(core, outputETag);
    }
  }

  /**
   * @param reported whether {@code {base}_error.json} has been written
   * @param reportAbandoned why it never can be, or null
   */
  public record Failed(JobCore core, String error, boolean reported, String reportAbandoned) implements Job {
    public JobStatus status() {
      return JobStatus.FAILED;
    }

    public Job with(JobCore core) {
      return new Failed(core, error, reported, reportAbandoned);
    }

    /** The error report is still to be written. */
    public boolean owesReport() {
      return !reported && reportAbandoned == null;
    }
  }

  public record Cancelled(JobCore core, String reason) implements Job {
    public JobStatus status() {
      return JobStatus.CANCELLED;
    }

    public Job with(JobCore core) {
      return new Cancelled(core, reason);
    }
  }

  // ---- Sharding

  /** Starts an error reply that means "try again later" (503), not "not in this state" (409). */
  public static final String UNAVAILABLE = "unavailable: ";

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Request");

  /** Four tags spread the read side's load (one projection each); a job's tag never changes. */
  public static final List<String> TAGS = List.of("job-0", "job-1", "job-2", "job-3");

  /**
   * What a job needs from the rest of the system.
   *
   * @param metrics where transitions, waits and journal writes are reported
   */
  public record Deps(
      InferenceStep step,
      Function<String, RecipientRef<EndpointCommand>> endpoints,
      RequestSettings settings,
      Webhooks webhooks,
      WebhookSettings webhookSettings,
      Clock clock,
      JobMetrics metrics) {

    /** Reporting no metrics. */
    public Deps(InferenceStep step, Function<String, RecipientRef<EndpointCommand>> endpoints, RequestSettings settings,
        Webhooks webhooks, WebhookSettings webhookSettings, Clock clock) {
      this(step, endpoints, settings, webhooks, webhookSettings, clock, JobMetrics.NONE);
    }
  }

  /**
   * Registers the entity with sharding. Not remembered: with many jobs waiting, sharding's list of remembered
   * entities grows into a journal of its own that every restart replays at once. Jobs with work left are
   * woken from the job index instead (warmgate.index.JobWaker), and move with their shard by themselves
   * ({@link Stop}). Never passivated for being idle: a queued job may wait quietly for many minutes, and only
   * the job knows when it is at rest, or when its endpoint holds its place (parking).
   */
  public static void init(ActorSystem<?> system, Deps deps) {
    ClusterSharding.get(system)
        .init(
            Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), deps, ctx.getShard()))
                .withStopMessage(Stop.INSTANCE)
                .withSettings(ClusterShardingSettings.create(system).withNoPassivationStrategy()));
  }

  /** @param shard where to ask for passivation; null outside sharding (tests), where the actor just stops */
  public static Behavior<Command> create(String jobId, Deps deps, ActorRef<ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.setLoggerName(Request.class);
      Request request = new Request(jobId, deps, shard, ctx, timers);
      return EntityMdc.of(Map.of("jobId", jobId), request::mdc, request);
    }));
  }

  // ---- Behaviour

  private final String jobId;
  private final Deps deps;
  private final RequestSettings settings;
  private final Clock clock;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final ActorRef<EndpointCommand.SlotReply> slotAdapter;
  /** The job's endpoint, for the MDC of its log lines; null until the job is submitted or recovered. */
  private String endpoint;
  private boolean checkingInputs;
  private boolean publishing;
  private boolean reporting;
  private int reportFailures;
  private boolean calling;
  /** Whether the job asked for a slot again after its last {@link EndpointCommand.Park}: the ask may have undone it. */
  private boolean askedSincePark;
  /** The endpoint holds this queued job's place and it is leaving memory; its grant will wake it through sharding. */
  private boolean parked;
  // Read by the attempt's own stages on other threads, so it can drop the result of a cancelled job before
  // writing it; volatile because it crosses threads, and never persisted (the event is the record).
  private volatile boolean cancelled;

  private Request(String jobId, Deps deps, ActorRef<ClusterSharding.ShardCommand> shard, ActorContext<Command> ctx,
      TimerScheduler<Command> timers) {
    super(
        PersistenceId.of(ENTITY_KEY.name(), jobId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.jobId = jobId;
    this.deps = deps;
    this.settings = deps.settings();
    this.clock = deps.clock();
    this.shard = shard;
    this.ctx = ctx;
    this.timers = timers;
    this.slotAdapter = ctx.messageAdapter(EndpointCommand.SlotReply.class, Request::slotReply);
  }

  /** An endpoint's answer as the job's own command; also how a parked job's grant wakes it through sharding. */
  public static Command slotReply(EndpointCommand.SlotReply reply) {
    if (reply instanceof EndpointCommand.Grant grant) {
      return new Granted(grant);
    } else if (reply instanceof EndpointCommand.Unavailable refusal) {
      return new EndpointRefused(refusal);
    }
    return new ParkAccepted((EndpointCommand.Parked) reply);
  }

  @Override
  public State emptyState() {
    return new Blank();
  }

  /**
   * A job never saves snapshots (its few events replay in one read), so its start does not ask the snapshot store
   * for one: that would be a database query on every start, for every new job and every job woken after a restart.
   */
  @Override
  public Recovery recovery() {
    return Recovery.withSnapshotSelectionCriteria(SnapshotSelectionCriteria.none());
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return Set.of(tagFor(jobId));
  }

  /** The one tag of every event of job {@code jobId}. */
  public static String tagFor(String jobId) {
    return TAGS.get(Math.floorMod(jobId.hashCode(), TAGS.size()));
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), this::resume).build();
  }

  /** Picks up where the job was when its actor last stopped: after passivation, a rebalance or a crash. */
  private void resume(State state) {
    if (state instanceof Job job) {
      endpoint = job.core().spec().endpoint();
      MDC.put("endpoint", endpoint); // the MDC of this message was set before the recovery told us the endpoint
      if (hasWork(job)) {
        log().info("Job {} resumes {}", jobId, job.status());
      }
    }
    if (state instanceof WaitingForInputs waiting) {
      waitForInputs(waiting.core().spec());
    } else if (state instanceof Queued queued) {
      acquire(queued.core().spec().endpoint());
    } else if (state instanceof Running running) {
      log().info("Job {} was running attempt {} when its actor stopped; looking for its output", jobId, running.attempt());
      deps.endpoints().apply(running.core().spec().endpoint()).tell(new EndpointCommand.Release(jobId, running.leaseId()));
      ctx.pipeToSelf(deps.step().writtenBy(jobId, target(running.core().spec())), (found, failure) -> failure != null
          ? new OutputChecked(running.attempt(), null, false, String.valueOf(Failures.unwrap(failure)))
          : new OutputChecked(running.attempt(), found.map(BlobInfo::eTag).orElse(null), found.isPresent(), null));
    } else if (state instanceof RetryWait retry) {
      scheduleRetry(retry.retryAt());
    } else {
      // Blank (someone asked about an unknown id), awaiting review or finished: leave memory once duties are done.
      settle(state);
    }
  }

  /**
   * Composed by state as the house style's {@code queued().orElse(running()).orElse(anyState())} would be (the job's
   * phase first, then what every job answers, then what any state answers), but as plain methods: Pekko's builder
   * makes its case objects for every entity it starts, about 3.7 KiB per entity (docs/benchmarks.md, section 5),
   * and a node holds one entity per queued job.
   */
  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return this::handle;
  }

  private ReplyEffect<Event, State> handle(State state, Command command) {
    ReplyEffect<Event, State> effect = inPhase(state, command);
    if (effect == null && state instanceof Job job) {
      effect = inAnyJob(job, command);
    }
    if (effect == null) {
      effect = inAnyState(state, command);
    }
    if (effect == null) {
      throw new IllegalStateException("job " + jobId + ": no handler for " + command.getClass().getSimpleName()
          + " in " + state.getClass().getSimpleName());
    }
    return effect;
  }

  /** What only the job's current phase answers; null: the phase leaves the command to {@link #inAnyJob}. */
  private ReplyEffect<Event, State> inPhase(State state, Command command) {
    if (state instanceof Blank blank) {
      return unknownJob(blank, command);
    } else if (state instanceof WaitingForInputs waiting) {
      if (command instanceof InputsChecked checked) {
        return inputsChecked(waiting, checked);
      } else if (command instanceof CannotRun cannot) {
        checkingInputs = false;
        return fail(waiting, cannot.reason(), clock.instant());
      } else if (command instanceof Timer timer) {
        return timer == Timer.CHECK_INPUTS ? checkInputs(waiting) : ignore(waiting, timer);
      }
    } else if (state instanceof Queued queued) {
      if (command instanceof Granted granted) {
        return granted(queued, granted);
      } else if (command instanceof EndpointRefused refused) {
        return endpointRefused(queued, refused);
      } else if (command instanceof ParkAccepted) {
        return parkAccepted(queued);
      } else if (command instanceof Timer timer) {
        return timer == Timer.ACQUIRE_AGAIN ? askForSlot(queued) : timer == Timer.PARK ? park(queued) : ignore(queued, timer);
      }
    } else if (state instanceof Running running) {
      if (command instanceof AttemptFinished finished) {
        return attemptFinished(running, finished);
      } else if (command instanceof OutputChecked checked) {
        return outputChecked(running, checked);
      } else if (command instanceof Granted granted) {
        if (!granted.grant().leaseId().equals(running.leaseId())) {
          returnLease(granted.grant());
        }
        return Effect().noReply(); // the same lease again answers a repeated request; we hold it already
      } else if (command instanceof Timer timer) {
        return timer == Timer.RENEW_LEASE ? renew(running) : ignore(running, timer);
      }
    } else if (state instanceof RetryWait retry) {
      if (command instanceof Timer timer) {
        return timer == Timer.RETRY_DUE ? requeue(retry) : ignore(retry, timer);
      }
    } else if (state instanceof AwaitingReview review) {
      if (command instanceof Approve approve) {
        return approve(review, approve);
      } else if (command instanceof Published published) {
        return published(review, published);
      } else if (command instanceof Reject reject) {
        return reject(review, reject);
      }
    } else if (state instanceof Failed failed) {
      if (command instanceof Retry retry) {
        return retry(failed, retry);
      } else if (command instanceof ErrorReportWritten written) {
        return errorReportWritten(failed, written);
      } else if (command instanceof ErrorReportRefused refused) {
        return errorReportRefused(failed, refused);
      } else if (command instanceof Timer timer) {
        return failedTimer(failed, timer);
      }
    }
    return null;
  }

  /** No job has this id: lookups find nothing; null for what {@link #inAnyState} answers. */
  private ReplyEffect<Event, State> unknownJob(Blank state, Command command) {
    if (command instanceof Submit submit) {
      return submit(state, submit);
    } else if (command instanceof Get get) {
      return Effect().reply(get.replyTo(), new JobLookup(null));
    } else if (command instanceof Cancel cancel) {
      return Effect().reply(cancel.replyTo(), StatusReply.success(new JobLookup(null)));
    } else if (command instanceof Retry retry) {
      return Effect().reply(retry.replyTo(), StatusReply.success(new JobLookup(null)));
    } else if (command instanceof Approve approve) {
      return Effect().reply(approve.replyTo(), StatusReply.success(new JobLookup(null)));
    } else if (command instanceof Reject reject) {
      return Effect().reply(reject.replyTo(), StatusReply.success(new JobLookup(null)));
    }
    return null;
  }

  /** What every job answers whatever its phase; null for what {@link #inAnyState} answers. */
  private ReplyEffect<Event, State> inAnyJob(Job state, Command command) {
    if (command instanceof Submit submit) {
      return Effect().reply(submit.replyTo(),
          StatusReply.success(new Submitted(view(state), true, state.core().spec().equals(submit.spec()))));
    } else if (command instanceof Get get) {
      return Effect().reply(get.replyTo(), new JobLookup(view(state)));
    } else if (command instanceof Cancel cancel) {
      return cancel(state, cancel);
    } else if (command instanceof Retry retry) {
      return Effect().reply(retry.replyTo(), StatusReply.error(
          "job " + jobId + " is " + state.status() + "; only failed jobs can be retried"));
    } else if (command instanceof Approve approve) {
      return Effect().reply(approve.replyTo(), notAwaitingReview(state));
    } else if (command instanceof Reject reject) {
      return Effect().reply(reject.replyTo(), notAwaitingReview(state));
    } else if (command instanceof CallbackAnswered answered) {
      return callbackAnswered(state, answered);
    } else if (command instanceof Granted granted) {
      returnLease(granted.grant()); // a grant that arrives after the job moved on must not hold a slot
      return Effect().noReply();
    } else if (command instanceof Timer timer) {
      return timer == Timer.DELIVER_CALLBACK ? deliverCallback(state) : ignore(state, timer);
    }
    return null;
  }

  /** Late answers to work the job has moved past, and sharding's messages; null if none of these. */
  private ReplyEffect<Event, State> inAnyState(State state, Command command) {
    if (command instanceof Timer timer) {
      return ignore(state, timer);
    } else if (command instanceof Wake wake) {
      // Recovery has already resumed the job: nothing else to do.
      return wake.replyTo() == null ? Effect().noReply() : Effect().reply(wake.replyTo(), Done.getInstance());
    } else if (command instanceof Stop stop) {
      return stop(state, stop);
    } else if (command instanceof AttemptFinished finished) {
      log().warn("Job {}: result of attempt {} arrived in state {}; dropped", jobId, finished.attempt(), state.getClass().getSimpleName());
      return Effect().noReply();
    } else if (command instanceof Published published) {
      publishing = false;
      return Effect().reply(published.replyTo(), StatusReply.error("job " + jobId + " is no longer awaiting review"));
    } else if (command instanceof InputsChecked || command instanceof OutputChecked || command instanceof EndpointRefused
        || command instanceof ErrorReportWritten || command instanceof CallbackAnswered || command instanceof ParkAccepted
        || command instanceof CannotRun || command instanceof ErrorReportRefused) {
      return Effect().noReply();
    }
    return null;
  }

  // ---- Cancellation

  private ReplyEffect<Event, State> cancel(Job state, Cancel cmd) {
    if (state instanceof Cancelled) {
      return Effect().reply(cmd.replyTo(), StatusReply.success(new JobLookup(view(state))));
    }
    if (state instanceof Succeeded || state instanceof Failed) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("job " + jobId + " is " + state.status()
          + "; only waiting, queued, retrying, running or reviewed jobs can be cancelled"));
    }
    String reason = cmd.reason() == null || cmd.reason().isBlank() ? "cancelled" : cmd.reason();
    return persist(state, new JobCancelled(reason, clock.instant()))
        .thenRun(s -> {
          cancelled = true;
          timers.cancel(Timer.CHECK_INPUTS);
          timers.cancel(Timer.ACQUIRE_AGAIN);
          timers.cancel(Timer.PARK);
          timers.cancel(Timer.RETRY_DUE);
          if (state instanceof Running running) {
            releaseLease(running);
          } else if (state instanceof AwaitingReview) {
            discardHeld(state.core().spec());
          } else if (state instanceof Queued queued) {
            // Takes the job out of the endpoint's queue; a grant already on its way is returned on arrival.
            deps.endpoints().apply(queued.core().spec().endpoint()).tell(new EndpointCommand.Release(jobId, null));
          }
          log().info("Job {} cancelled while {} ({})", jobId, state.status(), reason);
          settle(s);
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new JobLookup(view((Job) s))));
  }

  // ---- Submission and inputs

  private ReplyEffect<Event, State> submit(Blank state, Submit cmd) {
    Instant now = clock.instant();
    endpoint = cmd.spec().endpoint();
    return persist(state, new JobSubmitted(jobId, cmd.spec(), now.plus(settings.inputsTimeout()), now))
        .thenRun(s -> {
          // Started blank, the actor armed its passivation (resume); a job with work must not leave memory, or
          // every new job would stop passivate-after later and be woken and recovered again at once.
          timers.cancel(Timer.PASSIVATE);
          log().info("Job {} submitted for endpoint {} ({})", jobId, cmd.spec().endpoint(), cmd.spec().source());
          waitForInputs(cmd.spec());
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new Submitted(view((Job) s), false, true)));
  }

  private void waitForInputs(JobSpec spec) {
    timers.startTimerWithFixedDelay(Timer.CHECK_INPUTS, Timer.CHECK_INPUTS, settings.inputsCheckInterval());
    lookForInputs(spec);
  }

  private ReplyEffect<Event, State> checkInputs(WaitingForInputs state) {
    lookForInputs(state.core().spec());
    return Effect().noReply();
  }

  private void lookForInputs(JobSpec spec) {
    if (checkingInputs) {
      return; // the last look has not answered yet
    }
    checkingInputs = true;
    // Before any look: a job journaled before the edge checked references would otherwise wait out
    // inputs-timeout for an input that can never exist, or run the model for an output that can never be written.
    Optional<String> never = InferenceStep.neverRuns(spec, target(spec));
    if (never.isPresent()) {
      ctx.getSelf().tell(new CannotRun(never.get()));
      return;
    }
    ctx.pipeToSelf(deps.step().missingInputs(spec), (missing, failure) -> {
      if (failure == null) {
        return new InputsChecked(missing, null);
      }
      Throwable cause = Failures.unwrap(failure);
      return cause instanceof InferenceException e && e.kind() == InferenceException.Kind.PERMANENT
          ? new CannotRun(e.getMessage())
          : new InputsChecked(List.of(), String.valueOf(cause));
    });
  }

  private ReplyEffect<Event, State> inputsChecked(WaitingForInputs state, InputsChecked cmd) {
    checkingInputs = false;
    Instant now = clock.instant();
    if (cmd.failure() == null && cmd.missing().isEmpty()) {
      timers.cancel(Timer.CHECK_INPUTS);
      return persist(state, new JobQueued(now))
          .thenRun(s -> acquire(state.core().spec().endpoint()))
          .thenNoReply();
    }
    if (!now.isBefore(state.deadline())) {
      timers.cancel(Timer.CHECK_INPUTS);
      String what = cmd.failure() != null
          ? "the inputs could not be checked: " + cmd.failure()
          : describeMissing(state.core().spec(), cmd.missing()) + " did not arrive within " + settings.inputsTimeout().toSeconds() + " s";
      return fail(state, what, now);
    }
    if (cmd.failure() != null) {
      log().warn("Job {}: checking inputs failed, will look again: {}", jobId, cmd.failure());
      return Effect().noReply();
    }
    if (!cmd.missing().equals(state.missing())) {
      return persist(state, new InputsMissing(cmd.missing(), now))
          .thenRun(s -> log().info("Job {} waits for {}", jobId, describeMissing(state.core().spec(), cmd.missing())))
          .thenNoReply();
    }
    return Effect().noReply(); // still waiting for the same inputs; the timer looks again
  }

  private static String describeMissing(JobSpec spec, List<String> names) {
    return String.join(", ", names.stream().map(n -> n + " " + spec.inputs().get(n)).toList());
  }

  // ---- Slots

  private void acquire(String endpoint) {
    timers.startTimerWithFixedDelay(Timer.ACQUIRE_AGAIN, Timer.ACQUIRE_AGAIN, settings.acquireInterval());
    if (!settings.parkAfter().isZero()) {
      timers.startTimerWithFixedDelay(Timer.PARK, Timer.PARK, settings.parkAfter());
    }
    askedSincePark = true;
    deps.endpoints().apply(endpoint).tell(new EndpointCommand.Acquire(jobId, slotAdapter));
  }

  private ReplyEffect<Event, State> askForSlot(Queued state) {
    askedSincePark = true;
    deps.endpoints().apply(state.core().spec().endpoint()).tell(new EndpointCommand.Acquire(jobId, slotAdapter));
    return Effect().noReply();
  }

  /**
   * Waited {@code park-after} in memory: asks the endpoint to keep the job's place by id. Until it answers, the job
   * keeps asking for a slot as before; the endpoint does not answer a job it has no place for (a full queue).
   */
  private ReplyEffect<Event, State> park(Queued state) {
    askedSincePark = false;
    deps.endpoints().apply(state.core().spec().endpoint()).tell(new EndpointCommand.Park(jobId, slotAdapter));
    return Effect().noReply();
  }

  /**
   * Leaves memory with its place kept. Not if it asked for a slot since its {@link EndpointCommand.Park}: that
   * ask, answered after the park, gave the endpoint this actor to send the grant to, and the grant would be lost;
   * the next park tries again. Nothing is persisted: the journal already says QUEUED, which is what a woken
   * job resumes from.
   */
  private ReplyEffect<Event, State> parkAccepted(Queued state) {
    if (askedSincePark) {
      return Effect().noReply();
    }
    parked = true;
    timers.cancel(Timer.ACQUIRE_AGAIN);
    timers.cancel(Timer.PARK);
    log().debug("Job {} parks in the queue of endpoint {}", jobId, state.core().spec().endpoint());
    if (shard != null) {
      shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
      return Effect().noReply();
    }
    return Effect().stop().thenNoReply();
  }

  private void returnLease(EndpointCommand.Grant grant) {
    deps.endpoints().apply(grant.endpoint()).tell(new EndpointCommand.Release(jobId, grant.leaseId()));
  }

  private ReplyEffect<Event, State> granted(Queued state, Granted cmd) {
    int attempt = state.core().attempts() + 1;
    EndpointCommand.Grant grant = cmd.grant();
    return persist(state, new AttemptStarted(attempt, grant.leaseId(), clock.instant()))
        .thenRun(s -> {
          timers.cancel(Timer.ACQUIRE_AGAIN);
          timers.cancel(Timer.PARK);
          Duration renewEvery = grant.ttl().dividedBy(3);
          timers.startTimerWithFixedDelay(Timer.RENEW_LEASE, Timer.RENEW_LEASE, renewEvery);
          log().info("Job {} runs attempt {} on endpoint {}", jobId, attempt, grant.endpoint());
          ctx.pipeToSelf(
              deps.step().run(jobId, attempt, state.core().spec(), target(state.core().spec()), () -> !cancelled)
                  .toCompletableFuture()
                  .orTimeout(settings.attemptTimeout().toMillis(), TimeUnit.MILLISECONDS),
              (output, failure) -> {
                if (failure == null) {
                  return AttemptFinished.succeeded(attempt, output);
                }
                Throwable cause = Failures.unwrap(failure);
                return cause instanceof InferenceException e
                    ? new AttemptFinished(attempt, null, e.kind(), e.getMessage())
                    : new AttemptFinished(attempt, null, InferenceException.Kind.TRANSIENT,
                        cause instanceof java.util.concurrent.TimeoutException
                            ? "the attempt took longer than " + settings.attemptTimeout().toSeconds() + " s (attempt-timeout)"
                            : String.valueOf(cause));
              });
        })
        .thenNoReply();
  }

  private ReplyEffect<Event, State> renew(Running state) {
    deps.endpoints().apply(state.core().spec().endpoint()).tell(new EndpointCommand.Renew(jobId, state.leaseId()));
    return Effect().noReply();
  }

  // ---- Attempts

  private ReplyEffect<Event, State> attemptFinished(Running state, AttemptFinished cmd) {
    if (cmd.attempt() != state.attempt()) {
      return Effect().noReply(); // a late answer of an attempt that was already given up
    }
    // The endpoint's work is over once the answer is here: its slot goes back now, not after the write below,
    // so the next job runs while this one's outcome is being journaled. A crash before that write is the
    // crash of a running job: it recovers as running and finds its output (or retries).
    releaseLease(state);
    Instant now = clock.instant();
    if (cmd.failureKind() == null) {
      return succeeded(state, cmd.attempt(), cmd.outputETag(), now, "succeeded");
    }
    if (cmd.failureKind() == InferenceException.Kind.PERMANENT) {
      return fail(state, "attempt " + cmd.attempt() + " failed permanently: " + cmd.failure(), now);
    }
    return retryOrFail(state, cmd.attempt(), cmd.failure(), now);
  }

  /** Only after a restart; the lease was returned then ({@link #resume}). */
  private ReplyEffect<Event, State> outputChecked(Running state, OutputChecked cmd) {
    Instant now = clock.instant();
    if (cmd.written()) {
      return succeeded(state, cmd.attempt(), cmd.outputETag(), now, "succeeded; its output was written before the interruption");
    }
    String why = cmd.failure() == null
        ? "attempt " + cmd.attempt() + " was interrupted (its node stopped before the output was written)"
        : "attempt " + cmd.attempt() + " was interrupted and its output could not be checked: " + cmd.failure();
    return retryOrFail(state, cmd.attempt(), why, now);
  }

  /** A result written: published at once, or held for review when the job asked for one. */
  private ReplyEffect<Event, State> succeeded(Running state, int attempt, String eTag, Instant now, String how) {
    JobSpec spec = state.core().spec();
    if (spec.requireReview()) {
      return persist(state, new ResultHeld(attempt, eTag, now))
          .thenRun(s -> {
            log().info("Job {} {}; the result waits for review at {}", jobId, how, heldOutput(spec));
            settle(s);
          })
          .thenNoReply();
    }
    return persist(state, new JobSucceeded(attempt, eTag, now))
        .thenRun(s -> {
          log().info("Job {} {}; output {}", jobId, how, spec.output());
          settle(s);
        })
        .thenNoReply();
  }

  private ReplyEffect<Event, State> retryOrFail(Running state, int attempt, String error, Instant now) {
    if (attempt - state.core().runStart() >= settings.maxAttempts()) {
      return fail(state, "gave up after " + (attempt - state.core().runStart()) + " attempts; last error: " + error, now);
    }
    Instant retryAt = now.plus(backoff(attempt));
    return persist(state, new AttemptFailed(attempt, error, retryAt, now))
        .thenRun(s -> {
          log().warn("Job {}: attempt {} failed, retrying at {}: {}", jobId, attempt, retryAt, error);
          scheduleRetry(retryAt);
        })
        .thenNoReply();
  }

  /** Exponential with equal jitter, so a burst of failures spreads out. */
  private Duration backoff(int attempt) {
    return Backoff.delay(settings.backoffMin(), settings.backoffMax(), attempt, ThreadLocalRandom.current().nextDouble());
  }

  private void scheduleRetry(Instant retryAt) {
    Duration delay = Duration.between(clock.instant(), retryAt);
    timers.startSingleTimer(Timer.RETRY_DUE, Timer.RETRY_DUE, delay.isNegative() ? Duration.ZERO : delay);
  }

  private ReplyEffect<Event, State> requeue(RetryWait state) {
    return persist(state, new JobQueued(clock.instant()))
        .thenRun(s -> acquire(state.core().spec().endpoint()))
        .thenNoReply();
  }

  private ReplyEffect<Event, State> fail(Job before, String error, Instant now) {
    return persist(before, new JobFailed(error, now))
        .thenRun(s -> {
          timers.cancel(Timer.CHECK_INPUTS);
          timers.cancel(Timer.ACQUIRE_AGAIN);
          timers.cancel(Timer.PARK);
          log().warn("Job {} failed: {}", jobId, error);
          settle(s);
        })
        .thenNoReply();
  }


  private void releaseLease(Running state) {
    timers.cancel(Timer.RENEW_LEASE);
    deps.endpoints().apply(state.core().spec().endpoint()).tell(new EndpointCommand.Release(jobId, state.leaseId()));
  }

  /** Sharding stops the actor: passivation (nothing left to do) or a hand-off of its shard to another node. */
  private ReplyEffect<Event, State> stop(State state, Stop stop) {
    boolean parkedInQueue = parked && state instanceof Queued; // its grant wakes it
    if (shard != null && state instanceof Job job && hasWork(job) && !parkedInQueue) {
      // Sent through this node's region, which holds it until the shard has its new home.
      ClusterSharding.get(ctx.getSystem()).entityRefFor(ENTITY_KEY, jobId).tell(new Wake(null));
      log().info("Job {} is {} and moves with its shard; it continues on the shard's new node", jobId, job.status());
    }
    return Effect().stop().thenNoReply();
  }

  private ReplyEffect<Event, State> ignore(State state, Timer timer) {
    if (timer == Timer.PASSIVATE) {
      if (shard != null) {
        shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
        return Effect().noReply();
      }
      return Effect().stop().thenNoReply();
    }
    return Effect().noReply(); // a timer of a stage the job has left
  }

  // ---- A FAILED endpoint

  private ReplyEffect<Event, State> endpointRefused(Queued state, EndpointRefused cmd) {
    Duration wait = cmd.refusal().retryAfter();
    // Spread the jobs' next asks, so a recovered endpoint is not hit by all of them in the same second.
    Instant retryAt = clock.instant().plus(wait.plusMillis(ThreadLocalRandom.current().nextLong(wait.toMillis() / 2 + 1)));
    return persist(state, new EndpointUnavailable(cmd.refusal().reason(), retryAt, clock.instant()))
        .thenRun(s -> {
          timers.cancel(Timer.ACQUIRE_AGAIN);
          timers.cancel(Timer.PARK);
          log().warn("Job {} waits until {}: {}", jobId, retryAt, cmd.refusal().reason());
          scheduleRetry(retryAt);
        })
        .thenNoReply();
  }

  // ---- Review

  private ReplyEffect<Event, State> approve(AwaitingReview state, Approve cmd) {
    if (publishing) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("job " + jobId + " is being approved already"));
    }
    publishing = true;
    JobSpec spec = state.core().spec();
    ctx.pipeToSelf(deps.step().publish(jobId, state.attempt(), spec, heldOutput(spec)), (written, failure) -> failure == null
        ? new Published(cmd.reviewer(), written.eTag(), null, cmd.replyTo())
        : new Published(cmd.reviewer(), null, String.valueOf(Failures.unwrap(failure)), cmd.replyTo()));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> published(AwaitingReview state, Published cmd) {
    publishing = false;
    if (cmd.failure() != null) {
      log().warn("Job {}: publishing the approved result failed: {}", jobId, cmd.failure());
      return Effect().reply(cmd.replyTo(), StatusReply.error(
          UNAVAILABLE + "the result could not be published (" + cmd.failure() + "); the job still awaits review, approve it again"));
    }
    return persist(state, new ResultApproved(cmd.reviewer(), cmd.outputETag(), clock.instant()))
        .thenRun(s -> {
          log().info("Job {} approved by {}; output {}", jobId, reviewerName(cmd.reviewer()), state.core().spec().output());
          settle(s);
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new JobLookup(view((Job) s))));
  }

  private ReplyEffect<Event, State> reject(AwaitingReview state, Reject cmd) {
    String reason = cmd.reason() == null || cmd.reason().isBlank() ? "no reason given" : cmd.reason();
    return persist(state, new ResultRejected(cmd.reviewer(), reason, clock.instant()))
        .thenRun(s -> {
          log().info("Job {} rejected by {}: {}", jobId, reviewerName(cmd.reviewer()), reason);
          discardHeld(state.core().spec());
          settle(s);
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new JobLookup(view((Job) s))));
  }

  private StatusReply<JobLookup> notAwaitingReview(Job state) {
    return StatusReply.error("job " + jobId + " is " + state.status() + "; only jobs awaiting review can be approved or rejected");
  }

  private void discardHeld(JobSpec spec) {
    ObjectRef held = heldOutput(spec);
    deps.step().discard(held).whenComplete((ok, failure) -> {
      if (failure != null) {
        log().warn("Job {}: the held result {} could not be removed: {}", jobId, held, Failures.unwrap(failure));
      }
    });
  }

  /** Where a job that asked for review writes its result until approval: out of the way of routes and readers. */
  static ObjectRef heldOutput(String jobId, JobSpec spec) {
    return new ObjectRef(spec.output().bucket(), ".warmgate/review/" + jobId + "/" + spec.output().key());
  }

  private ObjectRef heldOutput(JobSpec spec) {
    return heldOutput(jobId, spec);
  }

  private ObjectRef target(JobSpec spec) {
    return spec.requireReview() ? heldOutput(spec) : spec.output();
  }

  private static String reviewerName(String reviewer) {
    return reviewer == null ? "an anonymous reviewer" : reviewer;
  }

  /** The error a rejected job shows; the read side's fold ({@link JobSummary}) says the same. */
  static String rejectionError(ResultRejected rejected) {
    return "rejected in review by " + reviewerName(rejected.reviewer()) + ": " + rejected.reason();
  }

  // ---- Failed: the error report and redrives

  private ReplyEffect<Event, State> retry(Failed state, Retry cmd) {
    Instant now = clock.instant();
    String reason = cmd.reason() == null || cmd.reason().isBlank() ? "retried" : cmd.reason();
    return persist(state, new JobRetried(reason, now.plus(settings.inputsTimeout()), now))
        .thenRun(s -> {
          timers.cancel(Timer.REPORT_ERROR);
          timers.cancel(Timer.PASSIVATE);
          cancelled = false;
          JobSpec spec = state.core().spec();
          deps.step().clearErrorReport(spec).whenComplete((ok, failure) -> {
            if (failure != null) {
              log().warn("Job {}: the old error report {} could not be removed: {}", jobId, spec.errorOutput(), Failures.unwrap(failure));
            }
          });
          log().info("Job {} redriven ({}); it was FAILED: {}", jobId, reason, state.error());
          waitForInputs(spec);
        })
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new JobLookup(view((Job) s))));
  }

  private ReplyEffect<Event, State> failedTimer(Failed state, Timer timer) {
    return switch (timer) {
      case REPORT_ERROR -> reportError(state);
      case DELIVER_CALLBACK -> deliverCallback(state);
      default -> ignore(state, timer);
    };
  }

  private ReplyEffect<Event, State> reportError(Failed state) {
    if (reporting || !state.owesReport()) {
      return Effect().noReply();
    }
    reporting = true;
    byte[] report;
    try {
      report = Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(new ErrorReport(view(state)));
    } catch (java.io.IOException e) {
      throw new IllegalStateException("an error report is plain JSON", e);
    }
    ctx.pipeToSelf(deps.step().writeErrorReport(jobId, state.core().spec(), report), (written, failure) -> {
      if (failure == null) {
        return new ErrorReportWritten(written.eTag(), null);
      }
      Throwable cause = Failures.unwrap(failure);
      return cause instanceof BlobRefusedException refused
          ? new ErrorReportRefused("the error report can never be written: " + refused.getMessage())
          : new ErrorReportWritten(null, String.valueOf(cause));
    });
    return Effect().noReply();
  }

  /** Given up for good and recorded, so neither this actor nor the waker tries again after a restart. */
  private ReplyEffect<Event, State> errorReportRefused(Failed state, ErrorReportRefused cmd) {
    reporting = false;
    reportFailures = 0;
    return persist(state, new ErrorReportAbandoned(cmd.reason(), clock.instant()))
        .thenRun(s -> {
          timers.cancel(Timer.REPORT_ERROR);
          log().warn("Job {}: gave up its error report: {}", jobId, cmd.reason());
          settle(s);
        })
        .thenNoReply();
  }

  private ReplyEffect<Event, State> errorReportWritten(Failed state, ErrorReportWritten cmd) {
    reporting = false;
    if (cmd.failure() != null) {
      reportFailures++;
      Duration again = backoff(reportFailures);
      log().warn("Job {}: writing {} failed ({} time(s)), trying again in {} s: {}", jobId, state.core().spec().errorOutput(),
          reportFailures, again.toSeconds(), cmd.failure());
      timers.startSingleTimer(Timer.REPORT_ERROR, Timer.REPORT_ERROR, again);
      return Effect().noReply();
    }
    reportFailures = 0;
    return persist(state, new ErrorReported(cmd.eTag(), clock.instant()))
        .thenRun(this::settle)
        .thenNoReply();
  }

  /** The content of {@code {base}_error.json}: the failed job as the API shows it. */
  record ErrorReport(JobView job) {}

  // ---- Callbacks

  private ReplyEffect<Event, State> deliverCallback(Job state) {
    Callback due = state.core().callback();
    if (due == null || calling) {
      return Effect().noReply();
    }
    calling = true;
    String url = state.core().spec().callbackUrl();
    String id = webhookId(state.core(), due.status());
    int attempt = due.failures() + 1;
    byte[] body;
    try {
      body = Json.mapper().writeValueAsBytes(new CallbackBody(id, "job." + due.status().name().toLowerCase(java.util.Locale.ROOT), view(state)));
    } catch (java.io.IOException e) {
      throw new IllegalStateException("a callback body is plain JSON", e);
    }
    ctx.pipeToSelf(deps.webhooks().send(url, id, body), (status, failure) -> failure == null
        ? new CallbackAnswered(due.status(), attempt, status, null)
        : new CallbackAnswered(due.status(), attempt, 0, String.valueOf(Failures.unwrap(failure))));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> callbackAnswered(Job state, CallbackAnswered cmd) {
    calling = false;
    Callback due = state.core().callback();
    if (due == null || due.status() != cmd.status()) {
      settle(state); // a newer notice replaced this one while it was on its way
      return Effect().noReply();
    }
    Instant now = clock.instant();
    if (cmd.failure() == null && cmd.httpStatus() >= 200 && cmd.httpStatus() < 300) {
      return persist(state, new CallbackDelivered(cmd.status(), cmd.attempt(), cmd.httpStatus(), now))
          .thenRun(this::settle)
          .thenNoReply();
    }
    String error = cmd.failure() != null ? cmd.failure() : "the receiver answered HTTP " + cmd.httpStatus();
    WebhookSettings policy = deps.webhookSettings();
    Instant retryAt = cmd.attempt() >= policy.maxAttempts() ? null
        : now.plus(policy.backoff(cmd.attempt(), ThreadLocalRandom.current().nextDouble()));
    return persist(state, new CallbackFailed(cmd.status(), cmd.attempt(), error, retryAt, now))
        .thenRun(s -> {
          if (retryAt == null) {
            log().warn("Job {}: gave up on its {} callback after {} attempts: {}", jobId, cmd.status(), cmd.attempt(), error);
          } else {
            log().info("Job {}: {} callback attempt {} failed, again at {}: {}", jobId, cmd.status(), cmd.attempt(), retryAt, error);
          }
          settle(s);
        })
        .thenNoReply();
  }

  /** The same for every delivery of one notice; a redrive makes the next notices new ones. */
  private static String webhookId(JobCore core, JobStatus status) {
    return core.jobId() + "." + core.redrives() + "." + status.name().toLowerCase(java.util.Locale.ROOT);
  }

  /** What a callback posts. */
  record CallbackBody(String id, String type, JobView job) {}

  // ---- Duties before leaving memory

  /**
   * Does what a job at rest still owes (its error report, its callback) and, once nothing is owed, lets the
   * actor passivate. Until then it stays, and the waker starts it again after a crash, so no duty is forgotten.
   */
  private void settle(State state) {
    if (!(state instanceof Job job)) {
      timers.startSingleTimer(Timer.PASSIVATE, Timer.PASSIVATE, settings.passivateAfter());
      return;
    }
    if (job instanceof Failed failed && failed.owesReport() && !timers.isTimerActive(Timer.REPORT_ERROR)) {
      reportError(failed);
    }
    Callback due = job.core().callback();
    if (due != null) {
      Duration wait = due.retryAt() == null ? Duration.ZERO : Duration.between(clock.instant(), due.retryAt());
      if (wait.isNegative() || wait.isZero()) {
        deliverCallback(job);
      } else {
        timers.startSingleTimer(Timer.DELIVER_CALLBACK, Timer.DELIVER_CALLBACK, wait);
      }
    }
    if (hasWork(job)) {
      timers.cancel(Timer.PASSIVATE);
    } else {
      timers.startSingleTimer(Timer.PASSIVATE, Timer.PASSIVATE, settings.passivateAfter());
    }
  }

  /**
   * Whether the job still acts on its own: an unfinished stage, or a duty owed (its error report, a callback).
   * Such a job stays in memory, and must be woken after its node is gone; the read side's {@link JobSummary}
   * answers the same question from the events alone.
   */
  public static boolean hasWork(Job job) {
    boolean atRest = job instanceof Succeeded || job instanceof Failed || job instanceof Cancelled || job instanceof AwaitingReview;
    boolean owesReport = job instanceof Failed failed && failed.owesReport();
    return !atRest || owesReport || job.core().callback() != null;
  }


  // ---- Views and helpers

  static JobView view(Job job) {
    JobCore core = job.core();
    Map<String, String> inputs = new LinkedHashMap<>();
    core.spec().inputs().forEach((name, ref) -> inputs.put(name, ref.toString()));
    return new JobView(core.jobId(), job.status(), core.spec().endpoint(), core.spec().owner(), core.attempts(),
        core.createdAt(), core.updatedAt(), inputs, core.spec().output().toString(), job.error(),
        job instanceof AwaitingReview ? heldOutput(core.jobId(), core.spec()).toString() : null);
  }

  private org.slf4j.Logger log() {
    return ctx.getLog();
  }

  /** The MDC of every message this job handles (its jobId is set once for all, see {@link #create}). */
  private Map<String, String> mdc(Object message) {
    String known = endpoint != null ? endpoint : message instanceof Submit submit ? submit.spec().endpoint() : null;
    return known == null ? Map.of() : Map.of("endpoint", known);
  }

  /**
   * Every persist goes through here. Once the journal has stored the event it reports how long that took and,
   * when the job's status changed, the transition and the wait it ended (from the events' times). A side effect
   * of the persist, so never repeated when the journal is replayed.
   */
  private EffectBuilder<Event, State> persist(State before, Event event) {
    long requested = System.nanoTime();
    return Effect().persist(event).thenRun(after -> {
      JobMetrics metrics = deps.metrics();
      metrics.journalWrite(Duration.ofNanos(System.nanoTime() - requested));
      Job job = (Job) after;
      if (before instanceof Job was && was.status() == job.status()) {
        return;
      }
      String name = job.core().spec().endpoint();
      metrics.transition(name, job.status());
      if (before instanceof Queued queued && job instanceof Running) {
        // Nothing touches a queued job but its queueing, so its updatedAt is when it was queued.
        metrics.queueWait(name, Duration.between(queued.core().updatedAt(), event.at()));
      }
      if (job instanceof Succeeded || job instanceof Failed || job instanceof Cancelled) {
        metrics.finished(name, job.status(), Duration.between(job.core().createdAt(), event.at()));
      }
    });
  }

  // ---- Event handler

  /**
   * The state a job's events lead to, folded from {@link Blank} with the entity's own event handler: audits
   * rebuild jobs with it, and the entity recovers with the same handler, so the two cannot drift.
   */
  public static State replay(List<? extends Event> events) {
    State state = new Blank();
    for (Event event : events) {
      state = next(state, event);
    }
    return state;
  }

  /** One step of {@link #replay}: the state {@code event} leads to from {@code state}. */
  public static State next(State state, Event event) {
    return EVENT_HANDLER.apply(state, event);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return EVENT_HANDLER;
  }

  private static final EventHandler<State, Event> EVENT_HANDLER = buildEventHandler();

  private static EventHandler<State, Event> buildEventHandler() {
    EventHandlerBuilder<State, Event> builder = EventHandlerBuilder.builder();
    builder.forStateType(Blank.class)
        .onEvent(JobSubmitted.class, (s, e) -> new WaitingForInputs(
            new JobCore(e.jobId(), e.spec(), 0, 0, 0, e.at(), e.at(), null), List.copyOf(e.spec().inputs().keySet()), e.inputsDeadline()));
    builder.forStateType(WaitingForInputs.class)
        .onEvent(InputsMissing.class, (s, e) -> new WaitingForInputs(s.core().touched(e.at()), List.copyOf(e.missing()), s.deadline()))
        .onEvent(JobQueued.class, (s, e) -> new Queued(s.core().touched(e.at())));
    builder.forStateType(Queued.class)
        .onEvent(AttemptStarted.class, (s, e) -> new Running(s.core().attempted(e.attempt(), e.at()), e.attempt(), e.leaseId()))
        .onEvent(EndpointUnavailable.class, (s, e) -> new RetryWait(s.core().touched(e.at()), e.retryAt(), e.reason()));
    builder.forStateType(Running.class)
        .onEvent(JobSucceeded.class, (s, e) -> new Succeeded(s.core().reaching(JobStatus.SUCCEEDED, e.at()), e.outputETag()))
        .onEvent(ResultHeld.class, (s, e) -> new AwaitingReview(s.core().reaching(JobStatus.AWAITING_REVIEW, e.at()), e.attempt(), e.heldETag()))
        .onEvent(AttemptFailed.class, (s, e) -> new RetryWait(s.core().touched(e.at()), e.retryAt(), e.error()));
    builder.forStateType(RetryWait.class)
        .onEvent(JobQueued.class, (s, e) -> new Queued(s.core().touched(e.at())));
    builder.forStateType(AwaitingReview.class)
        .onEvent(ResultApproved.class, (s, e) -> new Succeeded(s.core().reaching(JobStatus.SUCCEEDED, e.at()), e.outputETag()))
        .onEvent(ResultRejected.class, (s, e) -> new Failed(s.core().reaching(JobStatus.FAILED, e.at()), rejectionError(e), false, null));
    builder.forStateType(Failed.class)
        .onEvent(ErrorReported.class, (s, e) -> new Failed(s.core(), s.error(), true, null))
        .onEvent(ErrorReportAbandoned.class, (s, e) -> new Failed(s.core(), s.error(), false, e.reason()))
        .onEvent(JobRetried.class, (s, e) -> new WaitingForInputs(s.core().redriven(e.at()), List.copyOf(s.core().spec().inputs().keySet()), e.inputsDeadline()));
    builder.forStateType(Job.class)
        .onEvent(JobFailed.class, (s, e) -> new Failed(s.core().reaching(JobStatus.FAILED, e.at()), e.error(), false, null))
        .onEvent(JobCancelled.class, (s, e) -> new Cancelled(s.core().reaching(JobStatus.CANCELLED, e.at()), e.reason()))
        .onEvent(CallbackDelivered.class, (s, e) -> s.with(s.core().withCallback(null)))
        .onEvent(CallbackFailed.class, (s, e) -> s.with(s.core().withCallback(
            e.retryAt() == null ? null : new Callback(e.status(), e.attempt(), e.retryAt()))));
    return builder.build();
  }
}
