package warmgate.ingest.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

// No server: warmgate.sqs as the shipped warmgate.conf and an override give it.
class SqsSettingsTest {

  private static SqsSettings settings(String hocon) {
    Config shipped = ConfigFactory.parseResources("warmgate.conf").resolve().getConfig("warmgate");
    return SqsSettings.fromConfig(ConfigFactory.parseString(hocon).withFallback(shipped));
  }

  @Test
  void isOffByDefault() {
    SqsSettings off = settings("");
    assertThat(off.queues()).isEmpty();
    assertThat(off.waitTime()).isEqualTo(Duration.ofSeconds(20));
    assertThat(off.maxMessages()).isEqualTo(10);
  }

  @Test
  void aQueueTakesTheDefaultsAndItsNameFromItsUrl() {
    SqsSettings one = settings("""
        sqs.queues = [{ url = "https://sqs.eu-west-1.amazonaws.com/123456789012/uploads", region = "eu-west-1" },
                      { url = "http://127.0.0.1:9324/000000000000/uploads", name = "local", consumers = 1,
                        endpoint-override = "http://127.0.0.1:9324", access-key-id = "x", secret-access-key = "y" }]
        """);
    assertThat(one.queues()).hasSize(2);
    SqsSettings.Queue aws = one.queues().get(0);
    assertThat(aws.name()).isEqualTo("uploads");
    assertThat(aws.region()).isEqualTo("eu-west-1");
    assertThat(aws.consumers()).isEqualTo(4);
    assertThat(aws.visibilityTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(aws.endpointOverride()).isEmpty();
    assertThat(aws.accessKeyId()).isEmpty();
    SqsSettings.Queue local = one.queues().get(1);
    assertThat(local.name()).isEqualTo("local");
    assertThat(local.consumers()).isEqualTo(1);
    assertThat(local.endpointOverride()).contains("http://127.0.0.1:9324");
    assertThat(local.accessKeyId()).contains("x");
  }

  @Test
  void refusesWhatCannotWork() {
    assertThatThrownBy(() -> settings("sqs.queues = [{ region = \"us-east-1\" }]"))
        .isInstanceOf(ConfigException.BadValue.class).hasMessageContaining("queues[0].url");
    assertThatThrownBy(() -> settings("sqs.queues = [{ url = \"not a url\" }]"))
        .isInstanceOf(ConfigException.BadValue.class);
    assertThatThrownBy(() -> settings("""
        sqs.queues = [{ url = "https://sqs.us-east-1.amazonaws.com/1/a" },
                      { url = "https://sqs.us-west-2.amazonaws.com/1/a" }]
        """)).isInstanceOf(ConfigException.BadValue.class).hasMessageContaining("names two queues");
    assertThatThrownBy(() -> settings("sqs.queues = [{ url = \"https://sqs.us-east-1.amazonaws.com/1/a\", "
        + "access-key-id = \"x\" }]")).isInstanceOf(ConfigException.BadValue.class)
        .hasMessageContaining("together");
    assertThatThrownBy(() -> settings("sqs.wait-time = 21s")).isInstanceOf(ConfigException.BadValue.class);
    assertThatThrownBy(() -> settings("sqs.max-messages = 11")).isInstanceOf(ConfigException.BadValue.class);
    assertThatThrownBy(() -> settings("sqs.retry-max = 13h")).isInstanceOf(ConfigException.BadValue.class);
  }

  @Test
  void aRefusedMessageComesBackLaterWithEachReceiveUpToRetryMax() {
    SqsSettings s = settings("sqs.retry-min = 5s, sqs.retry-max = 15m");
    assertThat(s.retryVisibility(1, Duration.ZERO)).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.retryVisibility(2, Duration.ZERO)).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.retryVisibility(8, Duration.ZERO)).isEqualTo(Duration.ofSeconds(640));
    assertThat(s.retryVisibility(9, Duration.ZERO)).isEqualTo(Duration.ofMinutes(15));
    assertThat(s.retryVisibility(1000, Duration.ZERO)).isEqualTo(Duration.ofMinutes(15));
    // The node's Retry-After, when longer, is where it starts.
    assertThat(s.retryVisibility(1, Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(30));
  }
}
