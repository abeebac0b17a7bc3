package warmgate.index;

import java.util.List;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import warmgate.request.RequestEntity;

/**
 * Writes given events into the real journal as a job's own, under its persistence id and with its tag, as
 * the Request entity would: what the projection reads, without running the job.
 */
final class EventLog extends EventSourcedBehavior<EventLog.Append, Object, Integer> {
  record Append(List<?> events, ActorRef<Done> replyTo) {}

  private final String jobId;

  private EventLog(String jobId) {
    super(PersistenceId.of(RequestEntity.ENTITY_KEY.name(), jobId));
    this.jobId = jobId;
  }

  static Behavior<Append> of(String jobId) {
    return new EventLog(jobId);
  }

  @Override
  public Integer emptyState() {
    return 0;
  }

  @Override
  public Set<String> tagsFor(Object event) {
    return Set.of(RequestEntity.tagFor(jobId));
  }

  @Override
  public CommandHandler<Append, Object, Integer> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Append.class, (state, cmd) -> Effect().persist(List.copyOf(cmd.events())).thenReply(cmd.replyTo(),
            s -> Done.getInstance()))
        .build();
  }

  @Override
  public EventHandler<Integer, Object> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent((state, event) -> state + 1);
  }
}
