package warmgate.ingest.sns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import warmgate.InvalidInput;

// Pure parsing and the string to sign: no network, no keys.
class SnsMessageTest {

  private static SnsMessage parse(String json) {
    return SnsMessage.parse(json.getBytes(StandardCharsets.UTF_8));
  }

  private static final String NOTIFICATION = """
      {
        "Type" : "Notification",
        "MessageId" : "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn" : "arn:aws:sns:us-west-2:123456789012:MyTopic",
        "Subject" : "My First Message",
        "Message" : "Hello world!",
        "Timestamp" : "2012-05-02T00:54:06.655Z",
        "SignatureVersion" : "1",
        "Signature" : "RVhBTVBMRQ==",
        "SigningCertURL" : \
      "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        "UnsubscribeURL" : \
      "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:MyTop\
      ic:c9135db0-26c4-47ec-8998-413945fb5a96"
      }""";

  private static final String CONFIRMATION = """
      {
        "Type" : "SubscriptionConfirmation",
        "MessageId" : "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token" : "2336412f37",
        "TopicArn" : "arn:aws:sns:us-west-2:123456789012:MyTopic",
        "Message" : "You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\\nTo \
      confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL" : "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-\
      2:123456789012:MyTopic&Token=2336412f37",
        "Timestamp" : "2012-04-26T20:45:04Z",
        "SignatureVersion" : "1",
        "Signature" : "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYD\
      VrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
        "SigningCertURL" : \
      "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"
      }""";

  @Test
  void readsADocumentedNotification() {
    SnsMessage message = parse(NOTIFICATION);

    assertThat(message.type()).isEqualTo(SnsMessage.Type.NOTIFICATION);
    assertThat(message.topicArn()).isEqualTo("arn:aws:sns:us-west-2:123456789012:MyTopic");
    assertThat(message.subject()).isEqualTo("My First Message");
    assertThat(message.message()).isEqualTo("Hello world!");
    assertThat(message.subscribeUrl()).isNull();
    assertThat(message.instant()).isEqualTo(Instant.parse("2012-05-02T00:54:06.655Z"));
  }

  @Test
  void notificationStringToSignFollowsTheDocumentedOrderWithSubjectOnlyWhenPresent() {
    assertThat(new String(parse(NOTIFICATION).stringToSign(), StandardCharsets.UTF_8)).isEqualTo("""
        Message
        Hello world!
        MessageId
        22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324
        Subject
        My First Message
        Timestamp
        2012-05-02T00:54:06.655Z
        TopicArn
        arn:aws:sns:us-west-2:123456789012:MyTopic
        Type
        Notification
        """);
    String withoutSubject = NOTIFICATION.replace("\"Subject\" : \"My First Message\",", "");
    assertThat(parse(withoutSubject).subject()).isNull();
    assertThat(new String(parse(withoutSubject).stringToSign(), StandardCharsets.UTF_8))
        .doesNotContain("Subject").startsWith("Message\nHello world!\nMessageId\n");
  }

  @Test
  void confirmationStringToSignIncludesSubscribeUrlAndTokenButNeverSubject() {
    SnsMessage message = parse(CONFIRMATION.replace("\"Token\"", "\"Subject\" : \"ignored\", \"Token\""));

    assertThat(new String(message.stringToSign(), StandardCharsets.UTF_8)).isEqualTo("""
        Message
        You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.
        To confirm the subscription, visit the SubscribeURL included in this message.
        MessageId
        165545c9-2a5c-472c-8df2-7ff2be2b3b1b
        SubscribeURL
        https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyT\
        opic&Token=2336412f37
        Timestamp
        2012-04-26T20:45:04Z
        Token
        2336412f37
        TopicArn
        arn:aws:sns:us-west-2:123456789012:MyTopic
        Type
        SubscriptionConfirmation
        """);
  }

  @Test
  void timestampsWithAndWithoutMillisecondsAreReadAndSignedAsSent() {
    SnsMessage withMillis = parse(NOTIFICATION.replace("2012-05-02T00:54:06.655Z", "2012-04-25T21:49:25.719Z"));
    SnsMessage withoutMillis = parse(NOTIFICATION.replace("2012-05-02T00:54:06.655Z", "2012-04-25T21:49:25Z"));

    assertThat(withMillis.instant()).isEqualTo(Instant.parse("2012-04-25T21:49:25.719Z"));
    assertThat(withoutMillis.instant()).isEqualTo(Instant.parse("2012-04-25T21:49:25Z"));
    assertThat(new String(withoutMillis.stringToSign(),
        StandardCharsets.UTF_8)).contains("\nTimestamp\n2012-04-25T21:49:25Z\n");
  }

  @Test
  void unsubscribeConfirmationIsAConfirmationToo() {
    SnsMessage message = parse(CONFIRMATION.replace("\"SubscriptionConfirmation\"", "\"UnsubscribeConfirmation\""));

    assertThat(message.type()).isEqualTo(SnsMessage.Type.UNSUBSCRIBE_CONFIRMATION);
    assertThat(message.token()).isEqualTo("2336412f37");
  }

  @Test
  void malformedBodiesAreInvalidInput() {
    assertInvalid("", "invalid_json");
    assertInvalid("{not json", "invalid_json");
    assertInvalid("[]", "invalid_sns_message");
    assertInvalid("\"Notification\"", "invalid_sns_message");
    assertInvalid("{\"Records\":[]}", "invalid_sns_message");
    assertInvalid(NOTIFICATION.replace("\"Type\" : \"Notification\"", "\"Type\" : \"Telegram\""),
        "invalid_sns_message");
    assertInvalid(NOTIFICATION.replace("\"Type\" : \"Notification\"", "\"Type\" : 1"), "invalid_sns_message");
    assertInvalid(NOTIFICATION.replace("\"Message\" : \"Hello world!\",", ""), "invalid_sns_message");
    assertInvalid(NOTIFICATION.replace("\"Hello world!\"", "null"), "invalid_sns_message");
    assertInvalid(NOTIFICATION.replace("\"Hello world!\"", "{\"a\":1}"), "invalid_sns_message");
    assertInvalid(NOTIFICATION.replace("\"My First Message\"", "7"), "invalid_sns_message");
    assertInvalid(NOTIFICATION.replace("\"SignatureVersion\" : \"1\",", ""), "invalid_sns_message");
    assertInvalid(NOTIFICATION.replace("\"SigningCertURL\"", "\"SigningCertUrl\""), "invalid_sns_message");
    assertInvalid(NOTIFICATION.replace("2012-05-02T00:54:06.655Z", "yesterday"), "invalid_sns_message");
    assertInvalid(NOTIFICATION.replace("RVhBTVBMRQ==", "not base64!"), "invalid_sns_message");
    assertInvalid(CONFIRMATION.replace("\"Token\" : \"2336412f37\",", ""), "invalid_sns_message");
    assertInvalid(CONFIRMATION.replace("\"SubscribeURL\"", "\"SubscribeUrl\""), "invalid_sns_message");
    assertInvalid(NOTIFICATION.replace("\"Message\" : \"Hello world!\",",
        "\"Message\" : \"Hello world!\", \"Message\" : \"other\","), "invalid_json");
  }

  @Test
  void rawMessageDeliveryIsExplained() {
    assertThatThrownBy(() -> parse("{\"Records\":[{\"eventSource\":\"aws:s3\"}]}"))
        .isInstanceOf(InvalidInput.class)
        .hasMessageContaining("raw message delivery");
  }

  private static void assertInvalid(String body, String code) {
    assertThatThrownBy(() -> parse(body))
        .as(body)
        .isInstanceOfSatisfying(InvalidInput.class, e -> assertThat(e.code()).isEqualTo(code));
  }
}
