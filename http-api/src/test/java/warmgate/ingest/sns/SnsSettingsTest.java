package warmgate.ingest.sns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import warmgate.InvalidInput;

// warmgate.sns as shipped and as operators override it; no network.
class SnsSettingsTest {

  private static Config warmgate(String overrides) {
    return ConfigFactory.parseString(overrides).withFallback(ConfigFactory.load()).getConfig("warmgate");
  }

  @Test
  void shippedDefaultsAllowNoTopicAndCoverSnsRetries() {
    SnsSettings settings = SnsSettings.fromConfig(warmgate(""));

    assertThat(settings.topicArns()).isEmpty();
    assertThat(settings.maxMessageAge()).isGreaterThan(Duration.ofHours(1));
    assertThat(settings.connectTimeout().plus(settings.requestTimeout()).plusSeconds(4))
        .isLessThan(Duration.ofSeconds(15));
    assertThat(settings.intermediates()).extracting(c -> c.getSubjectX500Principal().getName())
        .contains("CN=Amazon RSA 2048 M01,O=Amazon,C=US", "CN=Amazon RSA 2048 M02,O=Amazon,C=US",
            "CN=Amazon RSA 2048 M03,O=Amazon,C=US", "CN=Amazon RSA 2048 M04,O=Amazon,C=US");
    assertThat(settings.intermediates()).allMatch(c -> c.getIssuerX500Principal().getName()
        .equals("CN=Amazon Root CA 1,O=Amazon,C=US"));
  }

  @Test
  void topicsComeAsAListOrAsTheCommaSeparatedEnvironmentVariable() {
    String a = "arn:aws:sns:us-east-1:123456789012:a";
    String b = "arn:aws-cn:sns:cn-north-1:123456789012:b";

    assertThat(SnsSettings.fromConfig(warmgate("warmgate.sns.topic-arns = [\"" + a + "\", \"" + b + "\"]")).topicArns())
        .containsExactly(a, b);
    assertThat(SnsSettings.fromConfig(warmgate("warmgate.sns.topic-arns = \"" + a + " , " + b + ",\"")).topicArns())
        .containsExactly(a, b);
  }

  @Test
  void aMistypedTopicFailsAtStart() {
    assertThatThrownBy(() -> SnsSettings.fromConfig(warmgate(
        "warmgate.sns.topic-arns = [\"arn:aws:sqs:us-east-1:123456789012:q\"]")))
        .isInstanceOf(InvalidInput.class)
        .hasMessageContaining("arn:aws:sqs");
  }

  @Test
  void intermediateCertificatesAreReadFromAPemFile(@TempDir Path dir) throws Exception {
    Path bundle = Files.write(dir.resolve("intermediates.pem"), SnsFixture.pem(SnsFixture.CA, SnsFixture.ROGUE_CA));

    assertThat(SnsSettings.fromConfig(warmgate("warmgate.sns.amazon-intermediates = off\n"
        + "warmgate.sns.intermediate-certificates = \"" + bundle + "\"")).intermediates())
        .containsExactly(SnsFixture.CA, SnsFixture.ROGUE_CA);
    assertThat(SnsSettings.fromConfig(warmgate("warmgate.sns.intermediate-certificates = \"" + bundle
        + "\"")).intermediates())
        .hasSize(SnsSettings.amazonTrustServicesIntermediates().size() + 2)
        .endsWith(SnsFixture.CA, SnsFixture.ROGUE_CA);
    assertThatThrownBy(() -> SnsSettings.fromConfig(warmgate("warmgate.sns.intermediate-certificates = \""
        + dir.resolve("none.pem") + "\""))
        .intermediates())
        .hasMessageContaining("warmgate.sns.intermediate-certificates");
  }
}
