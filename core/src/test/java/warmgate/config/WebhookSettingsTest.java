package warmgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import warmgate.InvalidInput;

// Pure: the callback URL rules and the retry delays.
class WebhookSettingsTest {
  private static final WebhookSettings SETTINGS = new WebhookSettings("s3cret", List.of("hooks.example.com",
      "*.corp.example"),
      false, Duration.ofSeconds(5), 5, Duration.ofSeconds(5), Duration.ofMinutes(10));

  @ParameterizedTest
  @ValueSource(strings = {"https://hooks.example.com/done", "https://HOOKS.example.com:8443/done?x=1",
      "https://a.b.corp.example/cb"})
  void allowedCallbackUrlsPass(String url) {
    SETTINGS.check(url);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://hooks.example.com/done", // plain http unless allowed
      "https://evil.net/done",
      "https://hooks.example.com.evil.net/done",
      "https://corp.example/cb", // the wildcard is for sub-domains only
      "https://user:pw@hooks.example.com/done",
      "https://hooks.example.com/done#frag",
      "file:///etc/passwd",
      "https:///no-host",
      "not a url"})
  void otherCallbackUrlsAreRefused(String url) {
    assertThatThrownBy(() -> SETTINGS.check(url))
        .isInstanceOfSatisfying(InvalidInput.class, e -> assertThat(e.code()).isEqualTo("invalid_callback_url"));
  }

  @Test
  void withoutASecretCallbacksAreRefusedWithAHint() {
    var off = new WebhookSettings("", List.of("hooks.example.com"), false, Duration.ofSeconds(5), 5,
        Duration.ofSeconds(5), Duration.ofMinutes(10));

    assertThatThrownBy(() -> off.check("https://hooks.example.com/done"))
        .isInstanceOfSatisfying(InvalidInput.class, e -> {
          assertThat(e.code()).isEqualTo("callbacks_disabled");
          assertThat(e.getMessage()).contains("warmgate.webhooks.secret");
        });
  }

  @Test
  void plainHttpPassesWhenAllowed() {
    var local = new WebhookSettings("s", List.of("127.0.0.1"), true, Duration.ofSeconds(5), 5, Duration.ofSeconds(5),
        Duration.ofMinutes(10));

    local.check("http://127.0.0.1:9000/cb");
  }

  @Test
  void backoffDoublesWithHalfOfItRandomAndStopsAtTheMaximum() {
    assertThat(SETTINGS.backoff(1, 0.0)).isEqualTo(Duration.ofMillis(2500));
    assertThat(SETTINGS.backoff(1, 1.0)).isEqualTo(Duration.ofSeconds(5));
    assertThat(SETTINGS.backoff(3, 1.0)).isEqualTo(Duration.ofSeconds(20));
    assertThat(SETTINGS.backoff(40, 1.0)).isEqualTo(Duration.ofMinutes(10));
  }
}
