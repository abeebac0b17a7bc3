package warmgate.logformat;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

// LogText.escape alone: strings in, strings out; no logback.
class LogTextTest {

  @Test
  void leavesPlainTextAndOtherUnicodeAsTheyAre() {
    String plain = "s3://gen3d/users/ana/chair – ½ é 椅子 🪑.png";

    assertThat(LogText.escape(plain)).isSameAs(plain);
    assertThat(LogText.escape(null)).isNull();
  }

  @ParameterizedTest(name = "U+{0} -> {1}")
  @CsvSource(delimiter = ' ', value = {
      "000A \\n", "000D \\r", "0009 \\t",
      "0000 \\u0000", "0001 \\u0001", "0008 \\u0008", "000B \\u000B", "000C \\u000C", "001B \\u001B", "001F \\u001F",
      "007F \\u007F", "0080 \\u0080", "0085 \\u0085", "009F \\u009F",
      "2028 \\u2028", "2029 \\u2029",
      "202A \\u202A", "202B \\u202B", "202C \\u202C", "202D \\u202D", "202E \\u202E",
      "2066 \\u2066", "2067 \\u2067", "2068 \\u2068", "2069 \\u2069",
      "200E \\u200E", "200F \\u200F", "061C \\u061C"})
  void writesEachLineBreakingOrReorderingCharacterAsAnEscape(String hex, String escape) {
    char c = (char) Integer.parseInt(hex, 16);

    assertThat(LogText.escape("a" + c + "b")).isEqualTo("a" + escape + "b");
  }

  @Test
  void doublesBackslashesSoAnEscapeInTheLogIsNeverTextThatLookedLikeOne() {
    assertThat(LogText.escape("literal \\n and a real \n")).isEqualTo("literal \\\\n and a real \\n");
  }

  @Test
  void aForgedLogLineStaysOnTheLineOfTheValueThatCarriedIt() {
    String key = "users/a.png\n2026-12-06 10:00:00,000 INFO  warmgate.Main - forged\r\u0000\u2028\u202Egnp.";

    String escaped = LogText.escape(key);

    assertThat(escaped).isEqualTo("users/a.png\\n2026-12-06 10:00:00,000 INFO  warmgate.Main - "
        + "forged\\r\\u0000\\u2028\\u202Egnp.");
    assertThat(escaped.chars()).noneMatch(c -> c < 0x20 || c == 0x2028 || c == 0x202E);
  }
}
