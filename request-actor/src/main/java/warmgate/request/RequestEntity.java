package warmgate.request;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.Recovery;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.slf4j.MDC;
import warmgate.config.RequestSettings;
import warmgate.config.WebhookSettings;
import warmgate.endpoint.EndpointCommand;
import warmgate.job.JobStatus;
import warmgate.logging.EntityMdc;
import warmgate.request.RequestCommand.Approve;
import warmgate.request.RequestCommand.AsyncAccepted;
import warmgate.request.RequestCommand.AttemptDied;
import warmgate.request.RequestCommand.AttemptFinished;
import warmgate.request.RequestCommand.CallbackAnswered;
import warmgate.request.RequestCommand.Cancel;
import warmgate.request.RequestCommand.CannotRun;
import warmgate.request.RequestCommand.EndpointRefused;
import warmgate.request.RequestCommand.ErrorReportRefused;
import warmgate.request.RequestCommand.ErrorReportWritten;
import warmgate.request.RequestCommand.Get;
import warmgate.request.RequestCommand.Granted;
import warmgate.request.RequestCommand.InputsChecked;
import warmgate.request.RequestCommand.JobLookup;
import warmgate.request.RequestCommand.OutputChecked;
import warmgate.request.RequestCommand.ParkAccepted;
import warmgate.request.RequestCommand.Published;
import warmgate.request.RequestCommand.Reject;
import warmgate.request.RequestCommand.ResultLooked;
import warmgate.request.RequestCommand.ResultNoticed;
import warmgate.request.RequestCommand.Retry;
import warmgate.request.RequestCommand.Stop;
import warmgate.request.RequestCommand.Submit;
import warmgate.request.RequestCommand.Submitted;
import warmgate.request.RequestCommand.Timer;
import warmgate.request.RequestCommand.Wake;
import warmgate.request.RequestState.AwaitingReview;
import warmgate.request.RequestState.Blank;
import warmgate.request.RequestState.Failed;
import warmgate.request.RequestState.Job;
import warmgate.request.RequestState.Queued;
import warmgate.request.RequestState.RetryWait;
import warmgate.request.RequestState.Running;
import warmgate.request.RequestState.WaitingForInputs;

/**
 * One job, from submission to its end; sharded by job id and event-sourced, so it never forgets where it is. Its
 * commands are {@link RequestCommand}, its events (the journal's contract) {@link Request}, its stages and their
 * fold {@link RequestState}. This class is sharding, recovery and which handler answers what; the handlers are in
 * {@link ActivePhases} (waiting for inputs, queued, running, waiting to retry) and {@link AtRestPhases} (review,
 * failed, callbacks, cancellation). The side duties' bookkeeping is in {@link ErrorReportDuty}, {@link CallbackDuty}
 * and {@link Duty}, its talk with the endpoint in {@link Slots}.
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
 * it for good) is given up ({@link Request.ErrorReportAbandoned}) rather than retried forever. A job whose inputs can
 * never
 * exist, or whose result can never be written, fails as soon as it would look for its inputs. With a {@code
 * callbackUrl}, every end (and the wait for review) is reported by a signed
 * webhook, retried with backoff apart from the job's own progress. Those duties are persisted, so a job
 * stays in memory until they are done.
 *
 * <p>A queued job parks: with {@code park-at-once} its ask for a slot is also a park, which the endpoint answers at
 * once unless the job's turn is near; otherwise, or once queued for {@code park-after}, it asks to park
 * ({@link EndpointCommand.Park}). Once its endpoint holds its place by id its actor stops, and the endpoint's
 * grant, or its call back shortly before ({@link EndpointCommand.TurnNear}), sent through sharding, starts it
 * again as QUEUED to take the slot.
 *
 * <p>Sharding does not remember jobs. A job with work left ({@link Job#hasWork}) is started again by the read
 * side's waker after a restart or the loss of a node (a queued one is enlisted with its endpoint instead), and
 * by itself when its shard moves (see {@link Stop}).
 */
public final class RequestEntity extends EventSourcedBehaviorWithEnforcedReplies<RequestCommand, Request.Event,
    RequestState> {

  /** Starts an error reply that means "try again later" (503), not "not in this state" (409). */
  public static final String UNAVAILABLE = "unavailable: ";

  public static final EntityTypeKey<RequestCommand> ENTITY_KEY = EntityTypeKey.create(RequestCommand.class, "Request");

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
  public static Behavior<RequestCommand> create(String jobId, Deps deps, ActorRef<ClusterSharding.ShardCommand> shard) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.setLoggerName(RequestEntity.class);
      RequestEntity request = new RequestEntity(jobId, deps, shard, ctx, timers);
      return EntityMdc.of(Map.of("jobId", jobId), request::mdc, request);
    }));
  }

  /** The one tag of every event of job {@code jobId}. */
  public static String tagFor(String jobId) {
    return TAGS.get(Math.floorMod(jobId.hashCode(), TAGS.size()));
  }

  private final String jobId;
  private final Deps deps;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final ActorContext<RequestCommand> ctx;
  private final Slots slots;
  /** Waiting for inputs, queued, running, waiting to retry. */
  final ActivePhases active;
  /** A running attempt on an asynchronous endpoint. */
  final AsyncAttempts async;
  /** Awaiting review, failed, finished or cancelled: what the job still owes; and cancellation. */
  final AtRestPhases atRest;
  /** The job's endpoint, for the MDC of its log lines; null until the job is submitted or recovered. */
  private String endpoint;

  private RequestEntity(String jobId, Deps deps, ActorRef<ClusterSharding.ShardCommand> shard,
      ActorContext<RequestCommand> ctx,
      TimerScheduler<RequestCommand> timers) {
    super(
        PersistenceId.of(ENTITY_KEY.name(), jobId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
    this.jobId = jobId;
    this.deps = deps;
    this.shard = shard;
    this.ctx = ctx;
    this.slots = new Slots(jobId, deps.endpoints(), ctx.messageAdapter(EndpointCommand.SlotReply.class,
        RequestCommand::slotReply), deps.settings().parksAtOnce());
    this.active = new ActivePhases(this, jobId, deps, ctx, timers, slots);
    this.atRest = new AtRestPhases(this, jobId, deps, ctx, timers, slots);
    this.async = new AsyncAttempts(this, jobId, deps, ctx, timers, slots);
  }

  @Override
  public RequestState emptyState() {
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
  public Set<String> tagsFor(Request.Event event) {
    return Set.of(tagFor(jobId));
  }

  @Override
  public EventHandler<RequestState, Request.Event> eventHandler() {
    return RequestState.Fold.HANDLER;
  }

  @Override
  public SignalHandler<RequestState> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), this::resume).build();
  }

  /** Picks up where the job was when its actor last stopped: after passivation, a rebalance or a crash. */
  private void resume(RequestState state) {
    if (state instanceof Job job) {
      endpoint = job.core().spec().endpoint();
      MDC.put("endpoint", endpoint); // the MDC of this message was set before the recovery told us the endpoint
      if (job.status() == JobStatus.QUEUED) {
        // Routine: every job that waited parked comes back this way for its turn, a line per job of a backlog.
        log().debug("Job {} resumes {}", jobId, job.status());
      } else if (job.hasWork()) {
        log().info("Job {} resumes {}", jobId, job.status());
      }
    }
    if (state instanceof WaitingForInputs waiting) {
      active.waitForInputs(waiting.core().spec());
    } else if (state instanceof Queued queued) {
      active.acquire(queued.core().spec());
    } else if (state instanceof Running running) {
      if (running.call() != null) {
        async.resume(running);
      } else {
        active.lookForOutput(running);
      }
    } else if (state instanceof RetryWait retry) {
      active.scheduleRetry(retry.retryAt());
    } else {
      // Blank (someone asked about an unknown id), awaiting review or finished: leave memory once duties are done.
      atRest.settle(state);
    }
  }

  // ---- The state machine: what each phase answers

  /**
   * Composed by state as the house style's {@code queued().orElse(running()).orElse(anyState())} would be (the job's
   * phase first, then what every job answers, then what any state answers), but as plain methods: Pekko's builder
   * makes its case objects for every entity it starts, about 3.7 KiB per entity (docs/benchmarks.md, section 5),
   * and a node holds one entity per queued job.
   */
  @Override
  public CommandHandlerWithReply<RequestCommand, Request.Event, RequestState> commandHandler() {
    return this::handle;
  }

  private ReplyEffect<Request.Event, RequestState> handle(RequestState state, RequestCommand command) {
    ReplyEffect<Request.Event, RequestState> effect = inPhase(state, command);
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
  private ReplyEffect<Request.Event, RequestState> inPhase(RequestState state, RequestCommand command) {
    if (state instanceof Blank blank) {
      return unknownJob(blank, command);
    } else if (state instanceof WaitingForInputs waiting) {
      if (command instanceof InputsChecked checked) {
        return active.inputsChecked(waiting, checked);
      } else if (command instanceof CannotRun cannot) {
        return active.cannotRun(waiting, cannot);
      } else if (command instanceof Timer timer) {
        return timer == Timer.CHECK_INPUTS ? active.checkInputs(waiting) : ignore(waiting, timer);
      }
    } else if (state instanceof Queued queued) {
      if (command instanceof Granted granted) {
        return active.granted(queued, granted);
      } else if (command instanceof EndpointRefused refused) {
        return active.endpointRefused(queued, refused);
      } else if (command instanceof ParkAccepted) {
        return active.parkAccepted(queued);
      } else if (command instanceof Timer timer) {
        return switch (timer) {
          case ACQUIRE_AGAIN -> active.askForSlot(queued);
          case PARK -> active.park(queued);
          case REQUEUE_DUE -> active.requeueDue(queued);
          default -> ignore(queued, timer);
        };
      }
    } else if (state instanceof Running running) {
      if (command instanceof AttemptFinished finished) {
        return active.attemptFinished(running, finished);
      } else if (command instanceof AttemptDied died) {
        return active.attemptDied(running, died);
      } else if (command instanceof OutputChecked checked) {
        return active.outputChecked(running, checked);
      } else if (command instanceof AsyncAccepted accepted) {
        return async.accepted(running, accepted);
      } else if (command instanceof ResultNoticed noticed) {
        return async.noticed(running, noticed);
      } else if (command instanceof ResultLooked looked) {
        return async.looked(running, looked);
      } else if (command instanceof Granted granted) {
        if (!granted.grant().leaseId().equals(running.leaseId())) {
          slots.giveBack(granted.grant());
        }
        return Effect().noReply(); // the same lease again answers a repeated request; we hold it already
      } else if (command instanceof Timer timer) {
        return switch (timer) {
          case RENEW_LEASE -> active.renew(running);
          case LOOK_FOR_RESULT -> async.look(running);
          default -> ignore(running, timer);
        };
      }
    } else if (state instanceof RetryWait retry) {
      if (command instanceof Timer timer) {
        return timer == Timer.RETRY_DUE ? active.requeue(retry) : ignore(retry, timer);
      }
    } else if (state instanceof AwaitingReview review) {
      if (command instanceof Approve approve) {
        return atRest.approve(review, approve);
      } else if (command instanceof Published published) {
        return atRest.published(review, published);
      } else if (command instanceof Reject reject) {
        return atRest.reject(review, reject);
      }
    } else if (state instanceof Failed failed) {
      if (command instanceof Retry retry) {
        return atRest.retry(failed, retry);
      } else if (command instanceof ErrorReportWritten written) {
        return atRest.errorReportWritten(failed, written);
      } else if (command instanceof ErrorReportRefused refused) {
        return atRest.errorReportRefused(failed, refused);
      } else if (command instanceof Timer timer) {
        return switch (timer) {
          case REPORT_ERROR -> atRest.reportError(failed);
          case DELIVER_CALLBACK -> atRest.deliverCallback(failed);
          default -> ignore(failed, timer);
        };
      }
    }
    return null;
  }

  /** No job has this id: lookups find nothing; null for what {@link #inAnyState} answers. */
  private ReplyEffect<Request.Event, RequestState> unknownJob(Blank state, RequestCommand command) {
    if (command instanceof Submit submit) {
      endpoint = submit.spec().endpoint();
      return active.submit(state, submit);
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
  private ReplyEffect<Request.Event, RequestState> inAnyJob(Job state, RequestCommand command) {
    if (command instanceof Submit submit) {
      return Effect().reply(submit.replyTo(),
          StatusReply.success(new Submitted(state.view(), true, state.core().spec().equals(submit.spec()))));
    } else if (command instanceof Get get) {
      return Effect().reply(get.replyTo(), new JobLookup(state.view()));
    } else if (command instanceof Cancel cancel) {
      return atRest.cancel(state, cancel);
    } else if (command instanceof Retry retry) {
      return Effect().reply(retry.replyTo(), StatusReply.error(
          "job " + jobId + " is " + state.status() + "; only failed jobs can be retried"));
    } else if (command instanceof Approve approve) {
      return Effect().reply(approve.replyTo(), atRest.notAwaitingReview(state));
    } else if (command instanceof Reject reject) {
      return Effect().reply(reject.replyTo(), atRest.notAwaitingReview(state));
    } else if (command instanceof CallbackAnswered answered) {
      return atRest.callbackAnswered(state, answered);
    } else if (command instanceof Granted granted) {
      slots.giveBack(granted.grant()); // a grant that arrives after the job moved on must not hold a slot
      return Effect().noReply();
    } else if (command instanceof Timer timer) {
      return timer == Timer.DELIVER_CALLBACK ? atRest.deliverCallback(state) : ignore(state, timer);
    }
    return null;
  }

  /** Late answers to work the job has moved past, and sharding's messages; null if none of these. */
  private ReplyEffect<Request.Event, RequestState> inAnyState(RequestState state, RequestCommand command) {
    if (command instanceof Timer timer) {
      return ignore(state, timer);
    } else if (command instanceof Wake wake) {
      // Recovery has already resumed the job: nothing else to do.
      return wake.replyTo() == null ? Effect().noReply() : Effect().reply(wake.replyTo(), Done.getInstance());
    } else if (command instanceof Stop stop) {
      return stop(state, stop);
    } else if (command instanceof AttemptFinished finished) {
      log().warn("Job {}: result of attempt {} arrived in state {}; dropped", jobId, finished.attempt(),
          state.getClass().getSimpleName());
      return Effect().noReply();
    } else if (command instanceof AttemptDied) {
      return Effect().noReply(); // an attempt the job has moved past

    } else if (command instanceof Published published) {
      return atRest.publishedTooLate(published);
    } else if (command instanceof ErrorReportWritten || command instanceof ErrorReportRefused) {
      return atRest.errorReportTooLate();
    } else if (command instanceof AsyncAccepted || command instanceof ResultNoticed
        || command instanceof ResultLooked) {
      return Effect().noReply(); // an invocation's late news: the job has moved on, and reads no result twice
    } else if (command instanceof InputsChecked || command instanceof OutputChecked
        || command instanceof EndpointRefused
        || command instanceof CallbackAnswered || command instanceof ParkAccepted || command instanceof CannotRun) {
      return Effect().noReply();
    }
    return null;
  }

  // ---- Leaving memory

  /** Sharding stops the actor: passivation (nothing left to do) or a hand-off of its shard to another node. */
  private ReplyEffect<Request.Event, RequestState> stop(RequestState state, Stop stop) {
    boolean parkedInQueue = slots.parked() && state instanceof Queued; // its grant wakes it
    if (shard != null && state instanceof Job job && job.hasWork() && !parkedInQueue) {
      // Sent through this node's region, which holds it until the shard has its new home.
      ClusterSharding.get(ctx.getSystem()).entityRefFor(ENTITY_KEY, jobId).tell(new Wake(null));
      log().info("Job {} is {} and moves with its shard; it continues on the shard's new node", jobId, job.status());
    }
    return Effect().stop().thenNoReply();
  }

  ReplyEffect<Request.Event, RequestState> ignore(RequestState state, Timer timer) {
    if (timer == Timer.PASSIVATE) {
      return passivate();
    }
    return Effect().noReply(); // a timer of a stage the job has left
  }

  /**
   * Leaves memory as a crash would, journaling nothing, and comes back at once: the Wake goes through this node's
   * region, which holds it while the shard passivates the actor and then starts it again from the journal.
   */
  ReplyEffect<Request.Event, RequestState> restartFromJournal() {
    if (shard != null) {
      shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
      ClusterSharding.get(ctx.getSystem()).entityRefFor(ENTITY_KEY, jobId).tell(new Wake(null));
      return Effect().noReply();
    }
    return Effect().stop().thenNoReply(); // unsharded (tests): the waker finds it in the index
  }

  ReplyEffect<Request.Event, RequestState> passivate() {
    if (shard != null) {
      shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
      return Effect().noReply();
    }
    return Effect().stop().thenNoReply();
  }

  // ---- Persisting, logging

  /**
   * Every persist goes through here. Once the journal has stored the event it reports how long that took and
   * the transition it made ({@link JobMetrics#persisted}); a side effect of the persist, so never repeated when
   * the journal is replayed.
   */
  EffectBuilder<Request.Event, RequestState> persist(RequestState before, Request.Event event) {
    long requested = System.nanoTime();
    return Effect().persist(event)
        .thenRun(after -> deps.metrics().persisted(before, (Job) after, event,
            Duration.ofNanos(System.nanoTime() - requested)));
  }

  org.slf4j.Logger log() {
    return ctx.getLog();
  }

  /** The MDC of every message this job handles (its jobId is set once for all, see {@link #create}). */
  private Map<String, String> mdc(Object message) {
    String known = endpoint != null ? endpoint : message instanceof Submit submit ? submit.spec().endpoint() : null;
    return known == null ? Map.of() : Map.of("endpoint", known);
  }
}
