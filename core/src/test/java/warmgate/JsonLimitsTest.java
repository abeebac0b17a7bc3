package warmgate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

// No I/O: the read limits on request bodies (Json.readUntrusted).
class JsonLimitsTest {

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void assertRefused(String json, String code, String messagePart) {
    assertThatThrownBy(() -> Json.readUntrusted(utf8(json), "a test document"))
        .isInstanceOfSatisfying(InvalidInput.class, e -> {
          assertThat(e.code()).isEqualTo(code);
          assertThat(e.getMessage()).containsIgnoringCase(messagePart);
        });
  }

  @Test
  void nestingUpToTheLimitIsRead() {
    int depth = Json.Untrusted.MAX_NESTING_DEPTH;
    String json = "[".repeat(depth) + "]".repeat(depth);

    assertThat(Json.readUntrusted(utf8(json), "a test document").isArray()).isTrue();
  }

  @Test
  void nestingDeeperThanTheLimitIsRefusedAsTooDeep() {
    int depth = Json.Untrusted.MAX_NESTING_DEPTH + 1;
    assertRefused("[".repeat(depth) + "]".repeat(depth), "json_limit_exceeded", "nesting depth");
    assertRefused("{\"a\":".repeat(depth) + "1" + "}".repeat(depth), "json_limit_exceeded", "nesting depth");
    // Far deeper than any stack would take: refused at the limit, long before recursion could hurt.
    assertRefused("[".repeat(100_000), "json_limit_exceeded", "nesting depth");
  }

  @Test
  void overlongStringsNamesAndNumbersAreRefused() {
    assertRefused("{\"a\":\"" + "x".repeat(Json.Untrusted.MAX_STRING_LENGTH + 1) + "\"}", "json_limit_exceeded",
        "string");
    assertRefused("{\"" + "n".repeat(Json.Untrusted.MAX_NAME_LENGTH + 1) + "\":1}", "json_limit_exceeded", "name");
    assertRefused("{\"a\":" + "9".repeat(Json.Untrusted.MAX_NUMBER_LENGTH + 1) + "}", "json_limit_exceeded", "number");
  }

  @Test
  void emptyAndMalformedBodiesAreInvalidJson() {
    assertRefused("", "invalid_json", "empty");
    assertRefused("   ", "invalid_json", "no JSON value");
    assertRefused("{\"a\":", "invalid_json", "not valid JSON");
  }

  @Test
  void theMapperForOurOwnDataKeepsItsLargerLimits() {
    String longString = "{\"a\":\"" + "x".repeat(Json.Untrusted.MAX_STRING_LENGTH + 1) + "\"}";

    assertThat(Json.mapper().getFactory().streamReadConstraints().getMaxStringLength())
        .isEqualTo(Json.MAX_STRING_LENGTH);
    assertThat(Json.untrusted().getFactory().streamReadConstraints().getMaxNestingDepth())
        .isEqualTo(Json.Untrusted.MAX_NESTING_DEPTH);
    assertThat(longString.length()).isGreaterThan(Json.Untrusted.MAX_STRING_LENGTH);
  }
}
