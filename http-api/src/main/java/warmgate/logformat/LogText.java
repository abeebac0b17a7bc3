package warmgate.logformat;

/**
 * Escapes what a text log line must not carry raw: object keys, ids, reasons and headers come from outside, and a
 * line break in one of them would start a line that looks like Warmgate's own, a bidi override would show a line's
 * words in another order than they were written, and a NUL or an escape sequence would reach the terminal.
 *
 * <p>Line breaks and tabs become {@code \n}, {@code \r}, {@code \t}; every other control character (C0, DEL,
 * C1 including U+0085), the Unicode line and paragraph separators and the bidi controls become {@code \}{@code uXXXX}.
 * A backslash is doubled, so an escape in the log always stands for the character, never for text that looked like one.
 */
public final class LogText {
  private LogText() {}

  public static String escape(String text) {
    if (text == null) {
      return null;
    }
    int first = firstToEscape(text);
    if (first < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length() + 16).append(text, 0, first);
    for (int i = first; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (mustEscape(c)) {
            out.append("\\u").append(HEX[(c >> 12) & 0xF]).append(HEX[(c >> 8) & 0xF]).append(HEX[(c >> 4) & 0xF])
                .append(HEX[c & 0xF]);
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private static int firstToEscape(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\\' || mustEscape(c)) {
        return i;
      }
    }
    return -1;
  }

  /** True for the characters written as an escape (the backslash aside). */
  static boolean mustEscape(char c) {
    return c < 0x20
        || (c >= 0x7F && c <= 0x9F)
        || c == '\u061C' // Arabic letter mark
        || c == '\u200E' || c == '\u200F' // left-to-right and right-to-left marks
        || (c >= '\u2028' && c <= '\u202E') // line and paragraph separators, bidi embeddings and overrides
        || (c >= '\u2066' && c <= '\u2069'); // bidi isolates
  }
}
