package warmgate.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import warmgate.InvalidInput;

// No I/O: S3 sequencer ordering as AWS documents it (right-pad the shorter with zeros, compare as hex).
class SequencerTest {

  @Test
  void greaterHexValueIsTheLaterEvent() {
    assertThat(Sequencer.compare("0055AED6DCD90281E5", "0055AED6DCD90281E6")).isNegative();
    assertThat(Sequencer.compare("0055AED6DCD90281E6", "0055AED6DCD90281E5")).isPositive();
    assertThat(Sequencer.compare("0055AED6DCD90281E5", "0055AED6DCD90281E5")).isZero();
  }

  @Test
  void shorterOneIsRightPaddedWithZerosBeforeComparing() {
    // "0A" is "0A00": a longer string with only zeros after it is the same point in the key's history.
    assertThat(Sequencer.compare("0A", "0A00")).isZero();
    assertThat(Sequencer.compare("0A", "0A01")).isNegative();
    // Right-padded, "1" is "1000", which is after "0FFF"; left-padded it would have been before.
    assertThat(Sequencer.compare("1", "0FFF")).isPositive();
    assertThat(Sequencer.compare("00617F08299329D189", "00617F08299329D18")).isPositive();
  }

  @Test
  void hexDigitsCompareWithoutRegardToCase() {
    assertThat(Sequencer.compare("0a1b2c", "0A1B2C")).isZero();
    assertThat(Sequencer.compare("0a1b2d", "0A1B2C")).isPositive();
    // Letters sort after digits in hex whatever their case: 'a' (10) > '9'.
    assertThat(Sequencer.compare("a", "9")).isPositive();
    assertThat(Sequencer.parse("0a00")).isEqualTo(Sequencer.parse("0A")).hasSameHashCodeAs(Sequencer.parse("0A"));
  }

  @Test
  void ordersAListOldestFirst() {
    List<String> sorted = Stream.of("0B", "00617F08299329D189", "0A1", "0a")
        .map(Sequencer::parse).sorted(Sequencer.ORDER).map(Sequencer::hex).toList();

    assertThat(sorted).containsExactly("00617F08299329D189", "0A", "0A1", "0B");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "0x1F", "12 34", "GG", "-1", "١٢"})
  void refusesWhatIsNotHex(String notHex) {
    assertThatThrownBy(() -> Sequencer.parse(notHex)).isInstanceOf(InvalidInput.class);
    assertThat(Sequencer.orNull(notHex)).isNull();
  }

  @Test
  void refusesAbsentAndOverlongSequencers() {
    assertThatThrownBy(() -> Sequencer.compare(null, "0A")).isInstanceOf(InvalidInput.class);
    assertThatThrownBy(() -> Sequencer.parse("A".repeat(Sequencer.MAX_LENGTH + 1)))
        .isInstanceOf(InvalidInput.class)
        .hasMessageContaining("...");
    assertThat(Sequencer.parse("A".repeat(Sequencer.MAX_LENGTH)).hex()).hasSize(Sequencer.MAX_LENGTH);
  }
}
