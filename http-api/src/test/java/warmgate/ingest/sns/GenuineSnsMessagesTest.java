package warmgate.ingest.sns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import warmgate.Json;
import warmgate.ingest.sns.SnsFixture.FakeFetcher;

// Messages AWS really signed, with SNS's real signing certificates, checked against the JDK's real trust store and
// the shipped warmgate.sns defaults; the fetch is served from the fixture (resources .../sns/genuine/SOURCES.md).
class GenuineSnsMessagesTest {
  private static final String DIR = "warmgate/ingest/sns/genuine/";

  /** The verifier exactly as SnsRoutes.fromConfig wires it, with the clock at {@code now}. */
  private static SnsVerifier production(FakeFetcher fetcher, String topic, Instant now, boolean amazonIntermediates) {
    var config = ConfigFactory.parseString("warmgate.sns.amazon-intermediates = " + amazonIntermediates)
        .withFallback(ConfigFactory.load()).getConfig("warmgate");
    SnsSettings settings = SnsSettings.fromConfig(config);
    Clock clock = Clock.fixed(now, ZoneOffset.UTC);
    var certificates = new SigningCertificates(fetcher, SigningCertificates.jdkTrustAnchors(), settings.intermediates(),
        settings.certificateNames(), settings.certificateCacheSize(), clock);
    return new SnsVerifier(new SnsVerifier.Settings(Set.of(topic), settings.maxMessageAge(), settings.maxClockSkew()),
        certificates, clock);
  }

  private static ObjectNode message(String name) {
    try {
      return (ObjectNode) Json.mapper().readTree(resource(name));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] resource(String name) {
    try (InputStream in = GenuineSnsMessagesTest.class.getClassLoader().getResourceAsStream(DIR + name)) {
      return in.readAllBytes();
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException(DIR + name, e);
    }
  }

  private static FakeFetcher serving(ObjectNode message, String pem) {
    return new FakeFetcher().serve(message.get("SigningCertURL").asText(), resource(pem));
  }

  /** A minute after the message was sent: inside its certificate's validity and the replay window. */
  private static Instant justAfter(ObjectNode message) {
    return Instant.parse(message.get("Timestamp").asText()).plus(Duration.ofMinutes(1));
  }

  private static SnsVerifier.Verified verify(SnsVerifier verifier, ObjectNode message) {
    try {
      return verifier.verify(SnsMessage.parse(SnsFixture.bytes(message))).toCompletableFuture().join();
    } catch (CompletionException e) {
      throw (RuntimeException) e.getCause();
    }
  }

  private static void assertRefused(SnsVerifier verifier, ObjectNode message, String code) {
    assertThatThrownBy(() -> verify(verifier, message))
        .isInstanceOfSatisfying(SnsRefused.class, e -> assertThat(e.code()).isEqualTo(code));
  }

  @Test
  void thePemSnsServesHoldsOnlyTheSigningCertificateIssuedByAnAmazonIntermediate() throws Exception {
    var served = SigningCertificates.read(resource("aws-php-validator-signing-cert.pem"));
    var current = SigningCertificates.read(resource("eu-central-1-signing-cert-m01.pem"));

    assertThat(served).hasSize(1);
    assertThat(served.get(0).getSubjectX500Principal().getName()).isEqualTo("CN=sns.amazonaws.com");
    assertThat(served.get(0).getIssuerX500Principal().getName()).isEqualTo("CN=Amazon,OU=Server CA 1B,O=Amazon,C=US");
    assertThat(current.get(0).getIssuerX500Principal().getName()).isEqualTo("CN=Amazon RSA 2048 M01,O=Amazon,C=US");
    assertThat(SigningCertificates.jdkTrustAnchors())
        .noneMatch(anchor -> anchor.getTrustedCert().getSubjectX500Principal().getName().contains("Amazon RSA 2048"))
        .anyMatch(anchor -> anchor.getTrustedCert().getSubjectX500Principal().getName()
            .equals("CN=Amazon Root CA 1,O=Amazon,C=US"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"notification-v1.json", "notification-v2.json", "notification-v1-subject.json",
      "notification-v2-subject.json"})
  void awsSignedNotificationsVerifyWithTheShippedDefaults(String name) {
    ObjectNode message = message(name);
    var verifier = production(serving(message, "aws-php-validator-signing-cert.pem"),
        message.get("TopicArn").asText(), justAfter(message), true);

    var verified = verify(verifier, message);

    assertThat(verified.topic().arn()).isEqualTo(message.get("TopicArn").asText());
    assertThat(verified.message().message()).isEqualTo("Hello world");
  }

  @Test
  void aCurrentGenerationConfirmationChainsThroughAmazonRsa2048M01() {
    ObjectNode message = message("eu-central-1-subscription-confirmation-v2.json");
    var verifier = production(serving(message, "eu-central-1-signing-cert-m01.pem"),
        message.get("TopicArn").asText(), justAfter(message), true);

    assertThat(verify(verifier, message).message().type()).isEqualTo(SnsMessage.Type.SUBSCRIPTION_CONFIRMATION);
  }

  @Test
  void anyChangeToAGenuineMessageIsRefused() {
    for (String field : List.of("Message", "MessageId", "Timestamp", "Subject")) {
      ObjectNode message = message("notification-v2-subject.json");
      String changed = field.equals("Timestamp") ? "2022-07-28T22:53:56.086Z" : message.get(field).asText() + "!";
      message.put(field, changed);
      var verifier = production(serving(message, "aws-php-validator-signing-cert.pem"),
          message.get("TopicArn").asText(), justAfter(message), true);

      assertRefused(verifier, message, "invalid_signature");
    }
    ObjectNode confirmation = message("eu-central-1-subscription-confirmation-v2.json");
    confirmation.put("Token", confirmation.get("Token").asText().replace('2', '3'));
    assertRefused(production(serving(confirmation, "eu-central-1-signing-cert-m01.pem"),
        confirmation.get("TopicArn").asText(), justAfter(confirmation), true), confirmation, "invalid_signature");
  }

  @Test
  void withoutTheShippedIntermediatesEveryGenuineMessageIsRefused() {
    ObjectNode message = message("notification-v1.json");
    var verifier = production(serving(message, "aws-php-validator-signing-cert.pem"),
        message.get("TopicArn").asText(), justAfter(message), false);

    assertThatThrownBy(() -> verify(verifier, message))
        .isInstanceOfSatisfying(SnsRefused.class, e -> assertThat(e.code()).isEqualTo("untrusted_certificate"))
        .hasMessageContaining("Server CA 1B")
        .hasMessageContaining("warmgate.sns.intermediate-certificates");
  }

  @Test
  void theGenuineCertificateIsRefusedOnceItHasExpired() {
    ObjectNode message = message("notification-v1.json");
    Instant afterExpiry = Instant.parse("2022-08-18T00:00:00Z");
    var verifier = production(serving(message, "aws-php-validator-signing-cert.pem"),
        message.get("TopicArn").asText(), afterExpiry, true);
    message.put("Timestamp", afterExpiry.minusSeconds(60).toString());

    assertThatThrownBy(() -> verify(verifier, message))
        .isInstanceOfSatisfying(SnsRefused.class, e -> assertThat(e.code()).isEqualTo("untrusted_certificate"))
        .hasMessageContaining("expired");
  }
}
