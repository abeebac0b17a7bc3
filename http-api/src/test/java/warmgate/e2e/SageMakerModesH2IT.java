package warmgate.e2e;

import java.util.Map;

// One real node on the embedded default journal (H2 in a temporary folder), S3Proxy and the SageMaker stand-in in
// this JVM, real HTTP on loopback: the scenarios of SageMakerModesContract.
class SageMakerModesH2IT extends SageMakerModesContract {
  @Override
  protected Map<String, Object> journal() {
    return Map.of();
  }
}
