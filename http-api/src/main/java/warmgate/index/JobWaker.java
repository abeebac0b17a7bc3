package warmgate.index;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.endpoint.EndpointCommand;
import warmgate.endpoint.EndpointEntity;
import warmgate.request.RequestCommand;
import warmgate.request.RequestEntity;

/**
 * Starts every job that still has work, from the index, since sharding does not remember jobs. One per
 * cluster (a singleton). A run first waits until the projections have folded every event the journal held
 * when the run began (otherwise a job written just before a crash, not yet in the index, would stay asleep),
 * then pages through the jobs with work and sends each a {@link RequestCommand.Wake}, at most {@code rate} a second,
 * and waits for the job to answer that it is running; a job that does not answer is asked again (a wake sent
 * while sharding still routes a dead node's shard to it is lost), and if it still does not, a run soon after
 * tries once more.
 *
 * <p>A QUEUED job is not woken but enlisted: its endpoint takes its id into its queue
 * ({@link EndpointCommand.Enlist}, one per page and endpoint) and wakes the job with its grant. That costs no
 * recovery, so it is not throttled, and it is how jobs parked in the queue of an endpoint's entity that stopped get
 * their places back.
 *
 * <p>It runs when it starts (a full restart, or the singleton moving after its node went away), when a
 * member is removed (that node's jobs are in no memory any more), when an endpoint's entity starts (its queue
 * is empty), and every {@code interval} as a backstop. A trigger during a run makes one more run after it,
 * unless the run has not yet read the journal's position, and so will see all the trigger is about.
 */
public final class JobWaker extends AbstractBehavior<JobWaker.Command> {
  /** For what happens on the stream's threads, where the actor's own logger may not be used. */
  private static final Logger log = LoggerFactory.getLogger(JobWaker.class);

  public sealed interface Command {}

  /** Wakes every job with work; {@code reason} is for the log. */
  public record Run(String reason) implements Command {}

  private record JournalRead(Map<String, Long> target, Throwable failure) implements Command {}

  private record ProjectedRead(Map<String, Long> projected, Throwable failure) implements Command {}

  private enum CheckAgain implements Command {
    INSTANCE
  }

  /**
   * How a run went: jobs woken and jobs enlisted that answered, and jobs that did not after {@link #WAKE_ATTEMPTS}
   * tries.
   */
  private record Tally(long woken, long enlisted, long silent) {
    Tally plus(Pair<Outcome, Integer> outcome) {
      int n = outcome.second();
      return switch (outcome.first()) {
        case WOKEN -> new Tally(woken + n, enlisted, silent);
        case ENLISTED -> new Tally(woken, enlisted + n, silent);
        case SILENT -> new Tally(woken, enlisted, silent + n);
      };
    }
  }

  private enum Outcome {
    WOKEN,
    ENLISTED,
    SILENT
  }

  /** One ask of a run: wake job {@code wake}, or enlist the {@code enlist} jobs of a page with {@code endpoint}. */
  private record Step(String wake, String endpoint, List<EndpointCommand.QueuedJob> enlist) {
    /**
     * A page as steps: its queued jobs grouped by endpoint, {@link #ENLIST_CHUNK} at most per step, first; then one
     * wake per other job.
     */
    static List<Step> of(List<JobIndex.Work> page) {
      Map<String, List<EndpointCommand.QueuedJob>> queued = new LinkedHashMap<>();
      List<Step> wakes = new ArrayList<>();
      for (JobIndex.Work work : page) {
        if (work.status() != null && work.status().waitsForSlot() && work.endpoint() != null) {
          queued.computeIfAbsent(work.endpoint(), endpoint -> new ArrayList<>()).add(new EndpointCommand.QueuedJob(
              work.jobId(), work.owner(), work.priority(), work.since()));
        } else {
          wakes.add(new Step(work.jobId(), null, List.of()));
        }
      }
      List<Step> steps = new ArrayList<>();
      queued.forEach((endpoint, jobs) -> {
        for (int from = 0; from < jobs.size(); from += ENLIST_CHUNK) {
          steps.add(new Step(null, endpoint, jobs.subList(from, Math.min(jobs.size(), from + ENLIST_CHUNK))));
        }
      });
      steps.addAll(wakes);
      return steps;
    }

    int jobs() {
      return wake != null ? 1 : enlist.size();
    }
  }

  private record Woken(Tally tally, Throwable failure) implements Command {}

  /** How often a run looks at the projections' offsets while it waits for them. */
  static final Duration CATCH_UP_POLL = Duration.ofMillis(500);
  /** After a failed run (the database away), or one in which jobs did not answer, the next try. */
  static final Duration RETRY_AFTER = Duration.ofSeconds(10);
  /** Tries per job within a run, {@link #WAKE_RETRY_DELAY} apart. */
  static final int WAKE_ATTEMPTS = 3;
  static final Duration WAKE_RETRY_DELAY = Duration.ofSeconds(2);
  /** Jobs being woken at once: a slow journal slows the run down instead of piling up asks. */
  static final int WAKES_IN_FLIGHT = 64;
  /**
   * Queued jobs per {@link EndpointCommand.Enlist}, whatever the page size: the endpoint's entity may be on another
   * node, and a message of 500 jobs (about 40 KB) stays well inside the remoting frame (256 KiB).
   */
  static final int ENLIST_CHUNK = 500;
  /** Pages read ahead of the asks, so the next query runs while a page's jobs are enlisted. */
  private static final int PAGES_AHEAD = 2;
  private static final String PERIODIC = "periodic";

  /**
   * Starts the cluster's one waker; {@code wake} and {@code enlist} are sent through sharding. Answers the
   * singleton's proxy, for {@link Run}s from elsewhere.
   */
  public static ActorRef<Command> init(ActorSystem<?> system, JobIndex index, IndexProgress progress,
      ReadSideSettings.Waker settings) {
    ClusterSharding sharding = ClusterSharding.get(system);
    Function<String, CompletionStage<Done>> wake =
        jobId -> sharding.entityRefFor(RequestEntity.ENTITY_KEY, jobId).ask(RequestCommand.Wake::new,
            settings.confirmTimeout());
    BiFunction<String, List<EndpointCommand.QueuedJob>, CompletionStage<Done>> enlist = (endpoint, jobs) -> sharding
        .entityRefFor(EndpointEntity.ENTITY_KEY, endpoint)
        .ask(replyTo -> new EndpointCommand.Enlist(jobs, replyTo), settings.confirmTimeout());
    return ClusterSingleton.get(system).init(SingletonActor.of(
        Behaviors.supervise(create(index, progress, wake, enlist, settings,
            true)).onFailure(SupervisorStrategy.restart()), "job-waker"));
  }

  /**
   * @param wake wakes one job; completes once the job answers
   * @param enlist enlists queued jobs with their endpoint; completes once the endpoint holds them
   * @param watchMembers subscribe to removed cluster members (off in tests without a cluster)
   */
  static Behavior<Command> create(JobIndex index, IndexProgress progress, Function<String, CompletionStage<Done>> wake,
      BiFunction<String, List<EndpointCommand.QueuedJob>, CompletionStage<Done>> enlist,
      ReadSideSettings.Waker settings,
          boolean watchMembers) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      if (watchMembers) {
        Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(
            ctx.messageAdapter(ClusterEvent.MemberRemoved.class, removed -> new Run("member "
                + removed.member().address() + " removed")),
            ClusterEvent.MemberRemoved.class));
      }
      if (!settings.interval().isZero()) {
        timers.startTimerWithFixedDelay(PERIODIC, new Run(PERIODIC), settings.interval());
      }
      ctx.getSelf().tell(new Run("waker started"));
      return new JobWaker(ctx, timers, index, progress, wake, enlist, settings);
    }));
  }

  private final TimerScheduler<Command> timers;
  private final JobIndex index;
  private final IndexProgress progress;
  private final Function<String, CompletionStage<Done>> wake;
  private final BiFunction<String, List<EndpointCommand.QueuedJob>, CompletionStage<Done>> enlist;
  private final ReadSideSettings.Waker settings;
  private final Materializer materializer;

  /** The reason of the run under way; null when idle. */
  private String running;
  /** A trigger that came during the run: one more run follows. */
  private String pending;
  private long startedNanos;
  private long deadlineNanos;
  private Map<String, Long> target;
  private boolean caughtUp;
  private boolean waiting;

  private JobWaker(ActorContext<Command> ctx, TimerScheduler<Command> timers, JobIndex index, IndexProgress progress,
      Function<String, CompletionStage<Done>> wake,
      BiFunction<String, List<EndpointCommand.QueuedJob>, CompletionStage<Done>> enlist,
      ReadSideSettings.Waker settings) {
    super(ctx);
    this.timers = timers;
    this.index = index;
    this.progress = progress;
    this.wake = wake;
    this.enlist = enlist;
    this.settings = settings;
    // Streams of this actor stop with it: a waker that moves does not keep waking from its old node.
    this.materializer = Materializer.createMaterializer(ctx);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Run.class, this::run)
        .onMessage(JournalRead.class, this::journalRead)
        .onMessage(ProjectedRead.class, this::projectedRead)
        .onMessageEquals(CheckAgain.INSTANCE, this::checkProjections)
        .onMessage(Woken.class, this::woken)
        .build();
  }

  private Behavior<Command> run(Run run) {
    if (running != null && target == null) {
      getContext().getLog().debug("Job waker ({}): {} is covered by the run starting now", running, run.reason());
      return this;
    }
    if (running != null) {
      pending = pending == null ? run.reason() : pending;
      return this;
    }
    running = run.reason();
    target = null;
    startedNanos = System.nanoTime();
    deadlineNanos = startedNanos + settings.catchUpTimeout().toNanos();
    getContext().pipeToSelf(progress.journal(), JournalRead::new);
    return this;
  }

  private Behavior<Command> journalRead(JournalRead read) {
    if (read.failure() != null) {
      return failed("reading the journal's position", read.failure());
    }
    target = read.target();
    return checkProjections();
  }

  private Behavior<Command> checkProjections() {
    getContext().pipeToSelf(progress.projected(), ProjectedRead::new);
    return this;
  }

  private Behavior<Command> projectedRead(ProjectedRead read) {
    if (read.failure() != null) {
      return failed("reading the projections' offsets", read.failure());
    }
    caughtUp = IndexProgress.caughtUp(target, read.projected());
    if (!caughtUp && System.nanoTime() - deadlineNanos < 0) {
      if (!waiting) {
        waiting = true;
        getContext().getLog().info("Job waker ({}): waiting for the job index to catch up with the journal (journal "
            + "{}, index {})",
            running, target, read.projected());
      }
      timers.startSingleTimer(CheckAgain.INSTANCE, CATCH_UP_POLL);
      return this;
    }
    waiting = false;
    if (!caughtUp) {
      getContext().getLog().warn("Job waker ({}): the job index has not caught up with the journal within {} ms "
          + "(journal {}, index {}); "
          + "waking from the index as it is", running, settings.catchUpTimeout().toMillis(), target, read.projected());
    }
    getContext().pipeToSelf(wakeAll(), Woken::new);
    return this;
  }

  /**
   * Every job with work, page by page in id order, woken throttled or enlisted; completes with how many
   * answered.
   */
  private CompletionStage<Tally> wakeAll() {
    ActorSystem<?> system = getContext().getSystem();
    return Source.unfoldAsync(Optional.<String>empty(), after -> index.withWork(after.orElse(null), settings.pageSize())
            .thenApply(page -> page.isEmpty()
                ? Optional.<Pair<Optional<String>, List<JobIndex.Work>>>empty()
                : Optional.of(Pair.create(Optional.of(page.get(page.size() - 1).jobId()), page))))
        .buffer(PAGES_AHEAD, OverflowStrategy.backpressure())
        .mapConcat(Step::of)
        .throttle(settings.rate(), Duration.ofSeconds(1), step -> step.wake() != null ? 1 : 0)
        .mapAsyncUnordered(WAKES_IN_FLIGHT, step -> Patterns.retry(
                () -> step.wake() != null ? wake.apply(step.wake()) : enlist.apply(step.endpoint(), step.enlist()),
                WAKE_ATTEMPTS, WAKE_RETRY_DELAY, system)
            .handle((done, failure) -> {
              if (failure != null) {
                if (step.wake() != null) {
                  log.warn("Job waker: job {} did not answer its wake ({} tries): {}", step.wake(), WAKE_ATTEMPTS,
                      warmgate.Failures.unwrap(failure).toString());
                } else {
                  log.warn("Job waker: endpoint {} did not answer the enlisting of {} queued job(s) ({} tries): {}",
                      step.endpoint(),
                      step.jobs(), WAKE_ATTEMPTS, warmgate.Failures.unwrap(failure).toString());
                }
                return Pair.create(Outcome.SILENT, step.jobs());
              }
              return Pair.create(step.wake() != null ? Outcome.WOKEN : Outcome.ENLISTED, step.jobs());
            }))
        .runFold(new Tally(0, 0, 0), Tally::plus, materializer);
  }

  private Behavior<Command> woken(Woken done) {
    if (done.failure() != null) {
      return failed("waking jobs", done.failure());
    }
    long millis = Duration.ofNanos(System.nanoTime() - startedNanos).toMillis();
    Tally tally = done.tally();
    getContext().getLog().info("Job waker ({}): woke {} job(s) with work left and enlisted {} queued one(s) in {} ms"
        + "{}{}",
        running, tally.woken(), tally.enlisted(), millis,
        caughtUp ? "" : " (the index had not caught up with the journal)",
        tally.silent() == 0 ? "" : "; " + tally.silent() + " did not answer, trying again in "
            + RETRY_AFTER.toSeconds() + " s");
    if (tally.silent() > 0) {
      timers.startSingleTimer("retry", new Run(running + ", again for jobs that did not answer"), RETRY_AFTER);
    }
    return next();
  }

  private Behavior<Command> failed(String what, Throwable failure) {
    getContext().getLog().warn("Job waker ({}): {} failed, trying again in {} s: {}", running, what,
        RETRY_AFTER.toSeconds(),
        warmgate.Failures.unwrap(failure).toString());
    timers.startSingleTimer("retry", new Run(running + ", again after a failure"), RETRY_AFTER);
    running = null;
    return this;
  }

  private Behavior<Command> next() {
    running = null;
    if (pending != null) {
      String reason = pending;
      pending = null;
      getContext().getSelf().tell(new Run(reason));
    }
    return this;
  }
}
