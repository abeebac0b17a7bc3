package warmgate.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import warmgate.ingest.eventbridge.EventBridgeParser;
import warmgate.ingest.s3.S3EventParser;
import warmgate.testing.FuzzProperty;

/**
 * No I/O: fuzz targets for the parsers of what arrives from outside. The normal build replays the committed
 * inputs under {@code NotificationParsersFuzzTestInputs/<method>/}; {@code JAZZER_FUZZ=1} fuzzes (docs/testing.md).
 * A new parser gets one method here, and optionally a folder of seed inputs named after it.
 */
class NotificationParsersFuzzTest {

  @FuzzTest
  void s3Event(byte[] input) {
    FuzzProperty.onlyInvalidInput(() -> S3EventParser.parse(input));
  }

  @FuzzTest
  void eventBridge(byte[] input) {
    FuzzProperty.onlyInvalidInput(() -> EventBridgeParser.parse(input));
  }

  /** Two sequencers, one per line. Besides the property: the order is antisymmetric, and trailing zeros do not count.
   * */
  @FuzzTest
  void sequencer(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    int newline = text.indexOf('\n');
    String a = newline < 0 ? text : text.substring(0, newline);
    String b = newline < 0 ? "" : text.substring(newline + 1);
    Integer order = FuzzProperty.onlyInvalidInput(() -> Sequencer.compare(a, b));
    if (order == null) {
      return;
    }
    assertThat(Integer.signum(Sequencer.compare(b, a))).isEqualTo(-Integer.signum(order));
    if (a.length() < Sequencer.MAX_LENGTH) {
      assertThat(Sequencer.compare(a, a + "0")).isZero();
    }
  }
}
