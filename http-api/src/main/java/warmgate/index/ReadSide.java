package warmgate.index;

import com.typesafe.config.Config;
import com.zaxxer.hikari.HikariDataSource;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.sql.DataSource;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.endpoint.ParkedJobs;
import warmgate.persistence.DatabaseSettings;
import warmgate.request.RequestEntity;

/**
 * The read side of a node: its connection pool, the job index projections, the waker and the index the
 * routes read. Started after the entities (the waker wakes them), before the HTTP edge.
 */
public final class ReadSide {
  private static final Logger log = LoggerFactory.getLogger(ReadSide.class);

  private final JobIndex index;
  private final DataSource pool;
  private final ActorRef<JobWaker.Command> waker;

  private ReadSide(JobIndex index, DataSource pool, ActorRef<JobWaker.Command> waker) {
    this.index = index;
    this.pool = pool;
    this.waker = waker;
  }

  /**
   * Has the waker enlist the queued jobs again whenever an endpoint's entity on this node starts with an empty queue
   * ({@link ParkedJobs.Recall}). One that started before this subscription needs none: the waker's first run
   * enlists every queued job.
   */
  private static Behavior<ParkedJobs.Recall> recalls(ActorRef<JobWaker.Command> waker) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().eventStream().tell(new EventStream.Subscribe<>(ParkedJobs.Recall.class, ctx.getSelf()));
      return Behaviors.receiveMessage(recall -> {
        waker.tell(new JobWaker.Run("endpoint " + recall.endpoint() + " started with an empty queue"));
        return Behaviors.same();
      });
    });
  }

  /** What {@code GET /v1/jobs} and the metrics read. */
  public JobIndex index() {
    return index;
  }

  /** The read side's pooled connections, for other readers of the database on this node (the audit route). */
  public DataSource pool() {
    return pool;
  }

  public static ReadSide start(ActorSystem<?> system, DatabaseSettings database, Config warmgate) {
    ReadSideSettings settings = ReadSideSettings.fromConfig(warmgate);
    HikariDataSource pool = ReadSidePool.create(database, settings.poolSize());
    // Closed last: the projections and the waker stop with the actor system's earlier phases.
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
        "warmgate-read-side-pool", () -> {
      pool.close();
      return CompletableFuture.completedFuture(Done.getInstance());
    });
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    JobIndexProjection.init(system, pool, settings.grouping());
    var index = new JdbcJobIndex(pool, blocking);
    ActorRef<JobWaker.Command> waker = JobWaker.init(system, index, new JdbcIndexProgress(pool, blocking),
        settings.waker());
    // Named uniquely: a test may start more than one read side in one actor system.
    system.systemActorOf(recalls(waker), "endpoint-recalls-" + java.util.UUID.randomUUID(), Props.empty());
    log.info("Read side started: {} job index projection(s), waker at {} job(s)/s{}", RequestEntity.TAGS.size(),
        settings.waker().rate(), settings.waker().interval().isZero() ? "" : ", every "
            + settings.waker().interval().toMinutes() + " min");
    return new ReadSide(index, pool, waker);
  }
}
