package warmgate.ingest;

import java.util.Comparator;
import java.util.Locale;
import java.util.regex.Pattern;
import warmgate.InvalidInput;

/**
 * S3's {@code sequencer}: a hexadecimal string that orders the events of one object key, so that of two
 * uploads of the same key the one with the greater sequencer happened later. AWS documents the comparison:
 * sequencers may differ in length, so the shorter is right-padded with {@code 0}s before a lexicographical
 * comparison (older versions of the S3 guide said left-pad; AWS corrected it to right-pad). Hex digits are
 * compared without regard to case. Sequencers of different keys say nothing about each other.
 *
 * @param hex upper-case hexadecimal digits, as given (not padded)
 */
public record Sequencer(String hex) implements Comparable<Sequencer> {
  /** S3's are 16 to 20 digits; a much longer one is not a sequencer but an attempt to make comparing slow. */
  public static final int MAX_LENGTH = 128;

  private static final Pattern HEX = Pattern.compile("[0-9A-Fa-f]+");

  /** Compares as AWS documents; use it to order uploads of one key. */
  public static final Comparator<Sequencer> ORDER = Sequencer::compareTo;

  public Sequencer {
    if (hex == null || hex.isEmpty() || hex.length() > MAX_LENGTH || !HEX.matcher(hex).matches()) {
      throw new InvalidInput("invalid_sequencer", "a sequencer is 1 to " + MAX_LENGTH + " hexadecimal digits, not "
          + (hex == null ? "missing" : "'" + abbreviate(hex) + "'"));
    }
    hex = hex.toUpperCase(Locale.ROOT);
  }

  /** @throws InvalidInput when {@code hex} is not a sequencer */
  public static Sequencer parse(String hex) {
    return new Sequencer(hex);
  }

  /** Null when {@code hex} is absent or not a sequencer: such an upload cannot be ordered against others. */
  public static Sequencer orNull(String hex) {
    if (hex == null || hex.isEmpty() || hex.length() > MAX_LENGTH || !HEX.matcher(hex).matches()) {
      return null;
    }
    return new Sequencer(hex);
  }

  /**
   * Compares two sequencer strings of the same key: negative when {@code a} is older, positive when newer.
   *
   * @throws InvalidInput when either is not a sequencer
   */
  public static int compare(String a, String b) {
    return parse(a).compareTo(parse(b));
  }

  /** True when this sequencer belongs to an event later than {@code other}'s, for the same key. */
  public boolean isAfter(Sequencer other) {
    return compareTo(other) > 0;
  }

  @Override
  public int compareTo(Sequencer other) {
    int length = Math.max(hex.length(), other.hex.length());
    for (int i = 0; i < length; i++) {
      // The missing tail of the shorter one counts as '0's.
      char mine = i < hex.length() ? hex.charAt(i) : '0';
      char theirs = i < other.hex.length() ? other.hex.charAt(i) : '0';
      if (mine != theirs) {
        return Character.compare(mine, theirs);
      }
    }
    return 0;
  }

  /**
   * Equal when they compare equal: "0A" and "0a00" are the same point in a key's history. {@link #hex()}
   * keeps the given length, so records would otherwise differ.
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof Sequencer other && compareTo(other) == 0;
  }

  @Override
  public int hashCode() {
    int end = hex.length();
    while (end > 0 && hex.charAt(end - 1) == '0') {
      end--;
    }
    return hex.substring(0, end).hashCode();
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }
}
