package warmgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

// Plain values: the limits each provider gets, how the settings read, and what a refusal says.
class InputLimitsTest {

  @Test
  void sageMakerRealTimeInputsLeaveRoomForTheirBase64AndTheJsonWithinItsRequestLimit() {
    InputLimits limits = InputLimits.forProvider("sagemaker");

    assertThat(limits.maxInputBytes()).isEqualTo(4_706_304);
    assertThat((limits.maxInputBytes() + 2) / 3 * 4 + 16 * 1024).isLessThanOrEqualTo(6_291_456);
    assertThat(InputLimits.forProvider("sagemaker-component")).isEqualTo(limits);
    assertThat(InputLimits.forProvider("sagemaker-async").maxInputBytes()).isEqualTo((1L << 30) / 4 * 3 - 12_288);
    assertThat(InputLimits.forProvider("process")).isEqualTo(new InputLimits(256L << 20, 512L << 20));
  }

  @Test
  void autoOrAMissingKeyTakesTheProvidersDefaultAndASizeOverridesIt() {
    InputLimits auto = InputLimits.of("gen3d", "process", ConfigFactory.parseString("max-input-bytes = auto"));
    InputLimits set = InputLimits.of("gen3d", "process", ConfigFactory.parseString(
        "max-input-bytes = 1g, max-job-input-bytes = 3g"));
    InputLimits onlyOne = InputLimits.of("gen3d", "process", ConfigFactory.parseString("max-input-bytes = 1g"));

    assertThat(auto).isEqualTo(InputLimits.forProvider("process"));
    assertThat(set).isEqualTo(new InputLimits(1L << 30, 3L << 30));
    assertThat(onlyOne.maxJobInputBytes()).as("a job may carry at least one input of the limit").isEqualTo(1L << 30);
    assertThatThrownBy(() -> InputLimits.of("gen3d", "process", ConfigFactory.parseString("max-input-bytes = 0")))
        .hasMessageContaining("endpoint gen3d");
  }

  @Test
  void aRefusalNamesTheInputItsSizeTheLimitAndWhatTheProviderTakes() {
    InputLimits realtime = InputLimits.forProvider("sagemaker");
    Map<String, Long> sizes = new LinkedHashMap<>();
    sizes.put("image", 5_250_000L);
    sizes.put("mask", 10L);

    String refusal = realtime.refusal("gen3d", sizes, Map.of("image", "s3://gen3d/a_image.png", "mask",
        "s3://gen3d/a_mask.png"));

    assertThat(refusal).contains("input image s3://gen3d/a_image.png is 5250000 bytes")
        .contains("max-input-bytes of 4706304").contains("6291456").contains("provider = sagemaker-async");
    assertThat(new InputLimits(10, 15).refusal("gen3d", Map.of("image", 10L, "mask", 10L), Map.of()))
        .contains("20 bytes together").contains("max-job-input-bytes of 15").doesNotContain("(SageMaker");
    assertThat(realtime.refusal("gen3d", Map.of("image", 100L), Map.of())).isNull();
  }
}
