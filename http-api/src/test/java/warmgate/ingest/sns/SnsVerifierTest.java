package warmgate.ingest.sns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static warmgate.ingest.sns.SnsFixture.CERT_URL;
import static warmgate.ingest.sns.SnsFixture.TOPIC;
import static warmgate.ingest.sns.SnsFixture.bytes;
import static warmgate.ingest.sns.SnsFixture.notification;
import static warmgate.ingest.sns.SnsFixture.s3Event;
import static warmgate.ingest.sns.SnsFixture.sign;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import warmgate.ingest.sns.SnsFixture.FakeFetcher;

// The forgery matrix at the verifier: signatures, versions, topics, certificate URLs, timestamps; no network.
class SnsVerifierTest {
  private final FakeFetcher fetcher = SnsFixture.servingSnsCert();
  private final SnsVerifier verifier = SnsFixture.verifier(fetcher, Set.of(TOPIC));

  private SnsVerifier.Verified verify(ObjectNode message) {
    try {
      return verifier.verify(SnsMessage.parse(bytes(message))).toCompletableFuture().join();
    } catch (CompletionException e) {
      throw (RuntimeException) e.getCause();
    }
  }

  private void assertRefused(ObjectNode message, String code) {
    assertThatThrownBy(() -> verify(message))
        .as(message.toString())
        .isInstanceOfSatisfying(SnsRefused.class, e -> assertThat(e.code()).isEqualTo(code));
  }

  @ParameterizedTest
  @ValueSource(strings = {"1", "2"})
  void signedNotificationIsBelievedWithEitherSignatureVersion(String version) {
    var verified = verify(sign(notification(s3Event("users/a/input/x_image.png")), version));

    assertThat(verified.topic().arn()).isEqualTo(TOPIC);
    assertThat(verified.message().message()).contains("x_image.png");
  }

  @Test
  void notificationWithoutSubjectIsBelieved() {
    ObjectNode message = notification(s3Event("k"));
    message.remove("Subject");

    assertThat(verify(sign(message, "2")).message().subject()).isNull();
  }

  @Test
  void confirmationsAreBelieved() {
    assertThat(verify(sign(SnsFixture.confirmation("SubscriptionConfirmation"), "1")).message().token()).isNotBlank();
    assertThat(verify(sign(SnsFixture.confirmation("UnsubscribeConfirmation"), "2")).message().type())
        .isEqualTo(SnsMessage.Type.UNSUBSCRIBE_CONFIRMATION);
  }

  @Test
  void timestampsWithAndWithoutMillisecondsVerify() {
    assertThat(verify(sign(notification("m").put("Timestamp", "2026-11-23T09:49:25.719Z"), "1"))).isNotNull();
    assertThat(verify(sign(notification("m").put("Timestamp", "2026-11-23T09:49:25Z"), "1"))).isNotNull();
  }

  @Test
  void anyChangeAfterSigningBreaksTheSignature() {
    assertRefused(sign(notification(s3Event("a")), "2").put("Message", s3Event("b")), "invalid_signature");
    assertRefused(sign(notification("m"), "2").put("Subject", "other"), "invalid_signature");
    assertRefused(sign(notification("m"), "2").put("MessageId", "other"), "invalid_signature");
    assertRefused(sign(notification("m"), "2").put("Timestamp", "2026-11-23T09:59:58.719Z"), "invalid_signature");
    ObjectNode subjectDropped = sign(notification("m"), "2");
    subjectDropped.remove("Subject");
    assertRefused(subjectDropped, "invalid_signature");
    ObjectNode otherTopic = sign(notification("m"), "2").put("TopicArn", "arn:aws:sns:us-east-1:123456789012:other");
    var lenient = SnsFixture.verifier(fetcher, Set.of(TOPIC, "arn:aws:sns:us-east-1:123456789012:other"));
    assertThatThrownBy(() -> lenient.verify(SnsMessage.parse(bytes(otherTopic))).toCompletableFuture().join())
        .hasCauseInstanceOf(SnsRefused.class).hasMessageContaining("signature does not match");
    assertRefused(sign(SnsFixture.confirmation("SubscriptionConfirmation"), "1")
        .put("SubscribeURL", "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=mine"),
            "invalid_signature");
  }

  @Test
  void signatureByAnotherKeyOrUnderAnotherVersionIsRefused() {
    assertRefused(sign(notification("m"), "2", SnsFixture.ROGUE_KEYS.getPrivate()), "invalid_signature");
    assertRefused(sign(notification("m"), "1").put("SignatureVersion", "2"), "invalid_signature");
    assertRefused(sign(notification("m"), "1").put("Signature", "AAAA"), "invalid_signature");
  }

  @Test
  void unknownSignatureVersionIsRefusedBeforeAnyFetch() {
    assertRefused(sign(notification("m"), "3"), "unsupported_signature_version");
    assertRefused(sign(notification("m"), "2").put("SignatureVersion", "0"), "unsupported_signature_version");
    assertRefused(sign(notification("m"), "2").put("SignatureVersion", ""), "unsupported_signature_version");
    assertThat(fetcher.fetched).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123.pem",
      "https://sns.evil.com/SimpleNotificationService-0123.pem",
      "https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-0123.pem",
      "https://evil.com/sns.us-east-1.amazonaws.com/SimpleNotificationService-0123.pem",
      "https://sns.us-east-1.amazonaws.com@evil.com/x.pem",
      "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-0123.pem",
      "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123.pem?x=y",
      "https://sns.us-east-1.amazonaws.com/cert.pem"
  })
  void foreignCertificateUrlIsRefusedWithoutFetchingIt(String url) {
    fetcher.serve(url, SnsFixture.pem(SnsFixture.SNS_CERT));

    assertRefused(sign(notification("m").put("SigningCertURL", url), "2"), "untrusted_certificate_url");
    assertThat(fetcher.fetched).isEmpty();
  }

  @Test
  void certificateFromAnotherRegionIsARegionMismatch() {
    String url = CERT_URL.replace("us-east-1", "eu-west-1");
    fetcher.serve(url, SnsFixture.pem(SnsFixture.SNS_CERT));

    assertRefused(sign(notification("m").put("SigningCertURL", url), "2"), "region_mismatch");
    assertThat(fetcher.fetched).isEmpty();
  }

  @Test
  void topicNotAllowListedIsRefusedWithoutFetching() {
    ObjectNode other = sign(notification("m").put("TopicArn", "arn:aws:sns:us-east-1:123456789012:other"), "2");

    assertRefused(other, "topic_not_allowed");
    assertThatThrownBy(() -> SnsFixture.verifier(fetcher,
        Set.of()).verify(SnsMessage.parse(bytes(sign(notification("m"), "2"))))
        .toCompletableFuture().join())
        .hasCauseInstanceOf(SnsRefused.class)
        .hasMessageContaining("warmgate.sns.topic-arns");
    assertThat(fetcher.fetched).isEmpty();
  }

  @Test
  void staleAndFutureMessagesAreRefused() {
    assertRefused(sign(notification("m").put("Timestamp", "2026-11-23T08:54:59Z"), "2"), "stale_message");
    assertRefused(sign(notification("m").put("Timestamp", "2026-11-23T10:05:01.000Z"), "2"), "stale_message");
    assertThat(verify(sign(notification("m").put("Timestamp", "2026-11-23T08:55:01Z"), "2"))).isNotNull();
    assertThat(verify(sign(notification("m").put("Timestamp", "2026-11-23T10:04:59Z"), "2"))).isNotNull();
  }

  @Test
  void malformedTopicArnIsInvalidInput() {
    assertThatThrownBy(() -> verify(sign(notification("m").put("TopicArn", "arn:aws:sns:evil"), "2")))
        .isInstanceOf(warmgate.InvalidInput.class);
  }

  @Test
  void unreachableCertificateIsUnavailableNotRefused() {
    fetcher.served.clear();

    assertThatThrownBy(() -> verify(sign(notification("m"), "2"))).isInstanceOf(SnsUnavailable.class);
  }
}
