package warmgate.ingest.sns;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides which URLs in an SNS message Warmgate may fetch. A message names two: the signing certificate and,
 * in a subscription confirmation, the link that confirms it. Both come from a body anybody can post, so
 * both must point at exactly SNS's own host for the topic's region ({@code sns.<region>.amazonaws.com},
 * or {@code .amazonaws.com.cn} for a China topic), over HTTPS on the default port, with nothing
 * (userinfo, another port, a query or a fragment) that could steer the request elsewhere.
 */
public final class AwsSnsUrls {
  /** Any SNS host; used only to tell a region mismatch apart from a foreign host. */
  private static final Pattern SNS_HOST = Pattern.compile("sns\\.([a-z0-9-]+)\\.amazonaws\\.com(\\.cn)?");
  private static final Pattern CERT_PATH = Pattern.compile("/SimpleNotificationService-[0-9a-f]{1,128}\\.pem");

  private AwsSnsUrls() {}

  /** The certificate URL if it is SNS's for {@code topic}; otherwise {@link SnsRefused}. */
  public static URI signingCertificate(String url, TopicArn topic) {
    URI uri = onSnsHost(url, topic, "SigningCertURL", "untrusted_certificate_url");
    if (uri.getRawQuery() != null) {
      throw refused("untrusted_certificate_url", "SigningCertURL must not carry a query");
    }
    if (uri.getRawPath() == null || !CERT_PATH.matcher(uri.getRawPath()).matches()) {
      throw refused("untrusted_certificate_url", "SigningCertURL's path must be /SimpleNotificationService-<hex>.pem");
    }
    return uri;
  }

  /**
   * The subscribe link if it is {@code https://sns.<topic region>.amazonaws.com/?Action=ConfirmSubscription...}
   * for {@code topic}; otherwise {@link SnsRefused}.
   */
  public static URI subscribe(String url, TopicArn topic) {
    URI uri = onSnsHost(url, topic, "SubscribeURL", "untrusted_subscribe_url");
    if (!"/".equals(uri.getRawPath())) {
      throw refused("untrusted_subscribe_url", "SubscribeURL's path must be /");
    }
    String query = uri.getRawQuery();
    if (query == null) {
      throw refused("untrusted_subscribe_url", "SubscribeURL has no query; expected Action=ConfirmSubscription");
    }
    List<String> actions = new ArrayList<>();
    for (String pair : query.split("&", -1)) {
      int eq = pair.indexOf('=');
      String name = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      if (name.equals("Action")) {
        actions.add(value);
      } else if (name.equals("TopicArn") && !value.equals(topic.arn())) {
        throw refused("untrusted_subscribe_url", "SubscribeURL confirms another topic than the message's TopicArn");
      }
    }
    if (!actions.equals(List.of("ConfirmSubscription"))) {
      throw refused("untrusted_subscribe_url", "SubscribeURL's Action must be ConfirmSubscription, once");
    }
    return uri;
  }

  private static URI onSnsHost(String url, TopicArn topic, String field, String code) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw refused(code, field + " is not a valid URL");
    }
    if (!"https".equals(uri.getScheme())) {
      throw refused(code, field + " must be an https URL");
    }
    if (uri.getRawUserInfo() != null) {
      throw refused(code, field + " must not carry user information");
    }
    if (uri.getRawFragment() != null) {
      throw refused(code, field + " must not carry a fragment");
    }
    if (uri.getPort() != -1 && uri.getPort() != 443) {
      throw refused(code, field + " must use the default HTTPS port");
    }
    String authority = uri.getRawAuthority();
    String host = uri.getHost();
    if (host == null || authority == null || !(authority.equals(host) || authority.equals(host + ":443"))) {
      throw refused(code, field + " has no plain host name");
    }
    if (!host.equals(topic.snsHost())) {
      Matcher sns = SNS_HOST.matcher(host);
      if (sns.matches() && !sns.group(1).equals(topic.region())) {
        throw refused("region_mismatch", field + " is on SNS in " + sns.group(1) + " but the topic " + topic.arn()
            + " is in " + topic.region());
      }
      throw refused(code, field + "'s host " + host + " is not " + topic.snsHost() + ", SNS's host for the topic");
    }
    return uri;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw refused("untrusted_subscribe_url", "SubscribeURL's query is not validly URL-encoded");
    }
  }

  private static SnsRefused refused(String code, String message) {
    return new SnsRefused(code, message);
  }
}
