package warmgate.logging;

import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Puts an entity's identity (job id, endpoint) in the MDC of everything it logs, so log lines can be filtered by
 * job or endpoint (the text pattern prints them, the JSON layout carries them as fields).
 *
 * <p>{@link Behaviors#withMdc} sets the MDC around the messages of the class it is given. An event-sourced entity
 * also logs while it handles messages of other classes: the journal's replies, during which its recovery and the
 * {@code thenRun} side effects of a persist run. So every message is intercepted here, not only commands.
 */
public final class EntityMdc {
  private EntityMdc() {}

  /**
   * @param fixed values known when the entity starts (its id)
   * @param perMessage values read when each message arrives, e.g. a field the entity sets once it knows it (the
   *     message is a command or an internal message of Pekko's)
   */
  @SuppressWarnings("unchecked")
  public static <T> Behavior<T> of(Map<String, String> fixed, Function<Object, Map<String, String>> perMessage,
      Behavior<T> entity) {
    Behavior<Object> any = (Behavior<Object>) (Behavior<?>) entity;
    return (Behavior<T>) (Behavior<?>) Behaviors.withMdc(Object.class, fixed, perMessage::apply, any);
  }
}
