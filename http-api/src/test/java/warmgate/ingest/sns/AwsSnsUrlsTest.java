package warmgate.ingest.sns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

// Pure URL checks: which certificate and subscribe URLs may ever be fetched.
class AwsSnsUrlsTest {
  private static final TopicArn TOPIC = TopicArn.parse("arn:aws:sns:us-east-1:123456789012:gen3d-uploads");
  private static final String PEM = "/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem";

  @Test
  void acceptsSnsOwnCertificateUrlForTheTopicsRegion() {
    assertThat(AwsSnsUrls.signingCertificate("https://sns.us-east-1.amazonaws.com" + PEM, TOPIC).getHost())
        .isEqualTo("sns.us-east-1.amazonaws.com");
    assertThat(AwsSnsUrls.signingCertificate("https://sns.us-east-1.amazonaws.com:443" + PEM, TOPIC)).isNotNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://sns.us-east-1.amazonaws.com" + PEM,
      "ftp://sns.us-east-1.amazonaws.com" + PEM,
      "//sns.us-east-1.amazonaws.com" + PEM,
      "https://sns.evil.com" + PEM,
      "https://sns.us-east-1.amazonaws.com.evil.com" + PEM,
      "https://evil.com/sns.us-east-1.amazonaws.com" + PEM,
      "https://sns.us-east-1.amazonaws.com@evil.com" + PEM,
      "https://sns.us-east-1.amazonaws.com@evil.com/x.pem",
      "https://user:pw@sns.us-east-1.amazonaws.com" + PEM,
      "https://sns.us-east-1.amazonaws.com:8443" + PEM,
      "https://sns.us-east-1.amazonaws.com" + PEM + "?x=1",
      "https://sns.us-east-1.amazonaws.com" + PEM + "?",
      "https://sns.us-east-1.amazonaws.com" + PEM + "#frag",
      "https://sns.us-east-1.amazonaws.com/x.pem",
      "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-.pem",
      "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-XYZ.pem",
      "https://sns.us-east-1.amazonaws.com/a/../SimpleNotificationService-0123.pem",
      "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123%2e.pem",
      "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123.pem/",
      "https://sns.us-east-1.amazonaws.com./SimpleNotificationService-0123.pem",
      "https://SNS.US-EAST-1.AMAZONAWS.COM" + PEM,
      "https://sns.us-east-1.amazonaws.com.cn" + PEM,
      "https://s3.amazonaws.com/bucket" + PEM,
      "https://sns.us-east-1.amazonaws.com\\@evil.com" + PEM,
      "https://127.0.0.1" + PEM,
      "https://[::1]" + PEM,
      "not a url at all",
      ""
  })
  void refusesEveryOtherCertificateUrl(String url) {
    assertThatThrownBy(() -> AwsSnsUrls.signingCertificate(url, TOPIC))
        .isInstanceOfSatisfying(SnsRefused.class, e -> assertThat(e.code()).isEqualTo("untrusted_certificate_url"));
  }

  @Test
  void certificateOnAnotherRegionsSnsIsARegionMismatch() {
    assertThatThrownBy(() -> AwsSnsUrls.signingCertificate("https://sns.eu-west-1.amazonaws.com" + PEM, TOPIC))
        .isInstanceOfSatisfying(SnsRefused.class, e -> assertThat(e.code()).isEqualTo("region_mismatch"))
        .hasMessageContaining("eu-west-1").hasMessageContaining("us-east-1");
  }

  @Test
  void chinaAndGovCloudTopicsUseTheirPartitionsHost() {
    var china = TopicArn.parse("arn:aws-cn:sns:cn-north-1:123456789012:t");
    var gov = TopicArn.parse("arn:aws-us-gov:sns:us-gov-west-1:123456789012:t");

    assertThat(AwsSnsUrls.signingCertificate("https://sns.cn-north-1.amazonaws.com.cn" + PEM, china)).isNotNull();
    assertThat(AwsSnsUrls.signingCertificate("https://sns.us-gov-west-1.amazonaws.com" + PEM, gov)).isNotNull();
    assertThatThrownBy(() -> AwsSnsUrls.signingCertificate("https://sns.cn-north-1.amazonaws.com" + PEM, china))
        .isInstanceOf(SnsRefused.class);
  }

  @Test
  void acceptsTheDocumentedSubscribeUrl() {
    String url = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + TOPIC.arn()
        + "&Token=2336412f37";

    assertThat(AwsSnsUrls.subscribe(url, TOPIC).toString()).isEqualTo(url);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t",
      "https://evil.com/?Action=ConfirmSubscription&Token=t",
      "https://sns.us-east-1.amazonaws.com.evil.com/?Action=ConfirmSubscription&Token=t",
      "https://sns.us-east-1.amazonaws.com@evil.com/?Action=ConfirmSubscription&Token=t",
      "https://sns.us-east-1.amazonaws.com:8443/?Action=ConfirmSubscription&Token=t",
      "https://sns.us-east-1.amazonaws.com/redirect?Action=ConfirmSubscription&Token=t",
      "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&Token=t",
      "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Action=Publish&Token=t",
      "https://sns.us-east-1.amazonaws.com/?Token=t",
      "https://sns.us-east-1.amazonaws.com/",
      "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:123456789012:o"
          + "ther&Token=t",
      "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t#x",
      "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=%zz"
  })
  void refusesSubscribeUrlsThatLeadElsewhere(String url) {
    assertThatThrownBy(() -> AwsSnsUrls.subscribe(url, TOPIC))
        .isInstanceOfSatisfying(SnsRefused.class, e -> assertThat(e.code()).isIn("untrusted_subscribe_url",
            "region_mismatch"));
  }

  @Test
  void subscribeUrlOnAnotherRegionIsARegionMismatch() {
    assertThatThrownBy(() -> AwsSnsUrls.subscribe(
        "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=t", TOPIC))
        .isInstanceOfSatisfying(SnsRefused.class, e -> assertThat(e.code()).isEqualTo("region_mismatch"));
  }

  @Test
  void topicArnsAreTakenApart() {
    assertThat(TOPIC.region()).isEqualTo("us-east-1");
    assertThat(TOPIC.snsHost()).isEqualTo("sns.us-east-1.amazonaws.com");
    for (String bad : new String[] {"arn:aws:sqs:us-east-1:123456789012:q", "arn:aws:sns:evil.com:123456789012:t",
        "arn:aws:sns:us-east-1:1234:t", "arn:other:sns:us-east-1:123456789012:t",
            "arn:aws:sns:us-east-1:123456789012:"}) {
      assertThatThrownBy(() -> TopicArn.parse(bad)).as(bad).isInstanceOf(warmgate.InvalidInput.class);
    }
  }
}
