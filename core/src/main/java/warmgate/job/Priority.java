package warmgate.job;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * How urgent a job is within its owner's share of an endpoint: {@code interactive} work (someone is waiting for it)
 * goes before {@code batch} work, which is never starved (docs/configuration.md, {@code queue.priority-ageing}).
 */
public enum Priority {
  INTERACTIVE,
  BATCH;

  /** As the API, the configuration and the journal spell it. */
  @JsonValue
  public String word() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * @throws IllegalArgumentException naming the accepted words when {@code word} is none of them
   */
  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public static Priority parse(String word) {
    for (Priority p : values()) {
      if (p.word().equals(word)) {
        return p;
      }
    }
    throw new IllegalArgumentException("priority must be interactive or batch, not '" + word + "'");
  }
}
