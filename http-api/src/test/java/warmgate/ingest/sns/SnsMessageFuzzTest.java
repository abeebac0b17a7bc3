package warmgate.ingest.sns;

import com.code_intelligence.jazzer.junit.FuzzTest;
import warmgate.testing.FuzzProperty;

// No I/O: fuzz target for the SNS envelope; the normal build replays SnsMessageFuzzTestInputs/ (docs/testing.md).
class SnsMessageFuzzTest {

  @FuzzTest
  void snsMessage(byte[] input) {
    FuzzProperty.onlyInvalidInput(() -> SnsMessage.parse(input));
  }
}
