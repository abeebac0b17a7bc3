package warmgate.testing;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.function.Supplier;
import warmgate.InvalidInput;

/**
 * The property every parser of untrusted input must have, checked by the fuzz tests: for any bytes it
 * returns a value or throws {@link InvalidInput} (which the edge answers with 400), never anything else
 * (a 500), and it returns promptly.
 */
public final class FuzzProperty {
  /** Far above what parsing a 1 MiB body takes; an input slower than this is a finding. */
  static final Duration PER_INPUT = Duration.ofSeconds(5);

  private FuzzProperty() {}

  /**
   * Runs {@code parse}; only {@link InvalidInput} is an acceptable failure. When replaying committed inputs
   * (the normal build) each runs on a watched thread, so a hang fails the test instead of the build; while
   * fuzzing ({@code JAZZER_FUZZ} set), libFuzzer's own per-input timeout watches instead.
   */
  public static <T> T onlyInvalidInput(Supplier<T> parse) {
    Supplier<T> guarded = () -> {
      try {
        return parse.get();
      } catch (InvalidInput expected) {
        return null;
      }
    };
    return fuzzing() ? guarded.get() : assertTimeoutPreemptively(PER_INPUT, guarded::get);
  }

  /** Jazzer fuzzes when {@code JAZZER_FUZZ} has any non-empty value, "0" included. */
  static boolean fuzzing() {
    String flag = System.getenv("JAZZER_FUZZ");
    return flag != null && !flag.isEmpty();
  }
}
