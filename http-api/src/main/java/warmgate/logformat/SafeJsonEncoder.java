package warmgate.logformat;

import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.nio.charset.StandardCharsets;

/**
 * Logback's {@link JsonEncoder}, whose output also carries U+0085, U+2028, U+2029 and the bidi controls as
 * {@code \}{@code uXXXX} escapes. JSON allows them raw inside strings, and logback writes them so, but tools that
 * split on every Unicode line break would cut the object in two, and a terminal showing the raw line would reorder
 * it. Outside a string none of them may stand in JSON, so escaping them in the whole line keeps the same document.
 * Logback already escapes the C0 controls, so each event stays one line.
 */
public class SafeJsonEncoder extends JsonEncoder {
  @Override
  public byte[] encode(ILoggingEvent event) {
    byte[] encoded = super.encode(event);
    if (!mayHoldOne(encoded)) {
      return encoded;
    }
    String line = new String(encoded, StandardCharsets.UTF_8);
    StringBuilder out = new StringBuilder(line.length() + 16);
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c >= 0x20 && LogText.mustEscape(c)) {
        out.append(String.format("\\u%04X", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }

  // DEL is one byte; in UTF-8, U+0080-U+009F start with 0xC2, U+061C with 0xD8 and the others with 0xE2; most lines
  // have none.
  private static boolean mayHoldOne(byte[] encoded) {
    for (byte b : encoded) {
      if (b == 0x7F || b == (byte) 0xC2 || b == (byte) 0xD8 || b == (byte) 0xE2) {
        return true;
      }
    }
    return false;
  }
}
