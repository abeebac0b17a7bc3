package warmgate.http;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Set;
import warmgate.testing.FuzzProperty;

// No I/O: fuzz target for the body of POST /v1/jobs; the normal build replays JobRequestFuzzTestInputs/ (docs/testing.md).
class JobRequestFuzzTest {

  @FuzzTest
  void jobRequest(byte[] input) {
    FuzzProperty.onlyInvalidInput(() -> JobRequest.parse(input, Set.of("gen3d"), null));
  }
}
