package warmgate.provider.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import warmgate.provider.ProviderState.Status;

// No I/O: SageMaker's status words, in the API's spelling and in EventBridge's.
class SageMakerStatusWordsTest {

  @ParameterizedTest
  @CsvSource({
      "InService, IN_SERVICE",
      "Creating, CREATING",
      "Updating, UPDATING",
      "SystemUpdating, UPDATING",
      "RollingBack, UPDATING",
      "Deleting, DELETING",
      "Failed, FAILED",
      "OutOfService, FAILED",
      "UpdateRollbackFailed, FAILED",
      "IN_SERVICE, IN_SERVICE",
      "SYSTEM_UPDATING, UPDATING",
      "OUT_OF_SERVICE, FAILED",
      "UPDATE_ROLLBACK_FAILED, FAILED",
      "DELETING, DELETING"})
  void mapsBothSpellingsOfEveryDocumentedStatus(String word, Status expected) {
    assertThat(SageMakerEndpoint.stateOf("gen3d", word, null).status()).isEqualTo(expected);
  }

  @Test
  void keepsTheWordAndTheFailureReasonAsDetail() {
    assertThat(SageMakerEndpoint.stateOf("gen3d", "FAILED", "capacity").detail()).isEqualTo("FAILED: capacity");
  }

  @Test
  void refusesWordsSageMakerDoesNotDocument() {
    assertThatThrownBy(() -> SageMakerEndpoint.stateOf("gen3d", "WARMING_UP",
        null)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> SageMakerEndpoint.stateOf("gen3d", "in_service",
        null)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> SageMakerEndpoint.stateOf("gen3d", " ",
        null)).isInstanceOf(IllegalArgumentException.class);
  }
}
