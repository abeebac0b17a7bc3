package warmgate.index;

import java.util.Map;
import java.util.concurrent.CompletionStage;

/** How far the journal and the index's projections have got, per tag: what the waker waits on. */
public interface IndexProgress {

  /** Per tag, the journal position (ordering) of the newest event with that tag; a tag without events is absent. */
  CompletionStage<Map<String, Long>> journal();

  /** Per tag, the journal position of the newest event the projection has committed; absent before its first. */
  CompletionStage<Map<String, Long>> projected();

  /** Whether every tag's projection has reached {@code target} (a {@link #journal()} answer). */
  static boolean caughtUp(Map<String, Long> target, Map<String, Long> projected) {
    return target.entrySet().stream().allMatch(e -> projected.getOrDefault(e.getKey(), 0L) >= e.getValue());
  }
}
