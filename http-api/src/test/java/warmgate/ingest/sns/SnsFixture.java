package warmgate.ingest.sns;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import warmgate.Json;

/**
 * A stand-in for Amazon SNS in tests: its own CA (the injected trust anchor), a signing certificate issued by
 * it to sns.amazonaws.com, messages in AWS's documented JSON formats signed with that key, and a fetcher
 * that serves the certificate's PEM at an SNS-looking URL. The string to sign is built here from AWS's
 * documentation, independently of {@link SnsMessage#stringToSign()}, so a mistake there fails the tests.
 */
public final class SnsFixture {
  public static final String TOPIC = "arn:aws:sns:us-east-1:123456789012:gen3d-uploads";
  public static final String CERT_URL =
      "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem";
  public static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");
  public static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  private static final AtomicLong SERIAL = new AtomicLong(1);
  public static final KeyPair CA_KEYS = rsa();
  public static final KeyPair SNS_KEYS = rsa();
  public static final KeyPair ROGUE_KEYS = rsa();
  public static final X509Certificate CA = issue("CN=Warmgate Test Root CA", CA_KEYS, null, CA_KEYS, true,
      NOW.minus(Duration.ofDays(30)), NOW.plus(Duration.ofDays(3650)));
  public static final X509Certificate SNS_CERT = issue("CN=sns.amazonaws.com", SNS_KEYS, CA, CA_KEYS, false,
      NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(365)));
  public static final X509Certificate ROGUE_CA = issue("CN=Warmgate Test Root CA", ROGUE_KEYS, null, ROGUE_KEYS, true,
      NOW.minus(Duration.ofDays(30)), NOW.plus(Duration.ofDays(3650)));

  private SnsFixture() {}

  public static Set<TrustAnchor> anchors() {
    return Set.of(new TrustAnchor(CA, null));
  }

  public static KeyPair rsa() {
    try {
      var generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      return generator.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A certificate for {@code subject}'s key signed by {@code issuerKeys}; {@code issuer} null: self-signed. */
  public static X509Certificate issue(String subject, KeyPair subjectKeys, X509Certificate issuer, KeyPair issuerKeys,
      boolean ca, Instant from, Instant to) {
    try {
      var name = new X500Principal(subject);
      var serial = BigInteger.valueOf(SERIAL.getAndIncrement());
      var builder = issuer == null
          ? new JcaX509v3CertificateBuilder(name, serial, java.util.Date.from(from), java.util.Date.from(to), name,
              subjectKeys.getPublic())
          : new JcaX509v3CertificateBuilder(issuer, serial, java.util.Date.from(from), java.util.Date.from(to), name,
              subjectKeys.getPublic());
      if (ca) {
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      } else {
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      }
      var signer = new JcaContentSignerBuilder("SHA256withRSA").build(issuerKeys.getPrivate());
      return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static byte[] pem(X509Certificate... certificates) {
    var out = new StringBuilder();
    for (X509Certificate certificate : certificates) {
      try {
        out.append("-----BEGIN CERTIFICATE-----\n")
            .append(Base64.getMimeEncoder(64,
                "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(certificate.getEncoded()))
            .append("\n-----END CERTIFICATE-----\n");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    return out.toString().getBytes(StandardCharsets.US_ASCII);
  }

  /** An S3 upload event, as S3 publishes it to the topic (the Message of a Notification). */
  public static String s3Event(String key) {
    return """
        {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",\
        "eventTime":"2026-11-23T09:59:58.123Z",
        "eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"gen3d",\
        "arn":"arn:aws:s3:::gen3d"},
        "object":{"key":"%s","size":1024,"eTag":"d41d8cd98f00b204e9800998ecf8427e",\
        "sequencer":"0055AED6DCD90281E5"}}}]}"""
        .formatted(key);
  }

  public static final String TEST_EVENT = """
      {"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-23T09:59:58.000Z","Bucket":"gen3d",
      "RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}""";

  /** A Notification in the documented HTTP(S) format, unsigned; sign it with {@link #sign}. */
  public static ObjectNode notification(String message) {
    ObjectNode m = Json.mapper().createObjectNode();
    m.put("Type", "Notification");
    m.put("MessageId", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324");
    m.put("TopicArn", TOPIC);
    m.put("Subject", "Amazon S3 Notification");
    m.put("Message", message);
    m.put("Timestamp", "2026-11-23T09:59:59.719Z");
    m.put("SignatureVersion", "1");
    m.put("Signature", "");
    m.put("SigningCertURL", CERT_URL);
    m.put("UnsubscribeURL", "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + TOPIC
        + ":c9135db0-26c4-47ec-8998-413945fb5a96");
    return m;
  }

  /** A SubscriptionConfirmation (or, with {@code type}, an UnsubscribeConfirmation), unsigned. */
  public static ObjectNode confirmation(String type) {
    ObjectNode m = Json.mapper().createObjectNode();
    String token = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad"
        + "02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b087959"
        + "4eeac82c01f235d0e717736";
    m.put("Type", type);
    m.put("MessageId", "165545c9-2a5c-472c-8df2-7ff2be2b3b1b");
    m.put("Token", token);
    m.put("TopicArn", TOPIC);
    m.put("Message", "You have chosen to subscribe to the topic " + TOPIC
        + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.");
    m.put("SubscribeURL", "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + TOPIC
        + "&Token=" + token);
    m.put("Timestamp", "2026-11-23T09:59:04Z");
    m.put("SignatureVersion", "1");
    m.put("Signature", "");
    m.put("SigningCertURL", CERT_URL);
    return m;
  }

  /** Signs with SNS's test key; {@code version} 1 or 2 picks the hash, anything else signs with SHA-256. */
  public static ObjectNode sign(ObjectNode message, String version) {
    return sign(message, version, SNS_KEYS.getPrivate());
  }

  public static ObjectNode sign(ObjectNode message, String version, PrivateKey key) {
    message.put("SignatureVersion", version);
    try {
      var signature = Signature.getInstance(version.equals("1") ? "SHA1withRSA" : "SHA256withRSA");
      signature.initSign(key);
      signature.update(documentedStringToSign(message).getBytes(StandardCharsets.UTF_8));
      message.put("Signature", Base64.getEncoder().encodeToString(signature.sign()));
      return message;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** AWS's documented string to sign: {@code name\nvalue\n} for each signed field present, in this order. */
  public static String documentedStringToSign(ObjectNode message) {
    List<String> fields = message.path("Type").asText().equals("Notification")
        ? List.of("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
        : List.of("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type");
    var s = new StringBuilder();
    for (String field : fields) {
      if (message.has(field)) {
        s.append(field).append('\n').append(message.get(field).asText()).append('\n');
      }
    }
    return s.toString();
  }

  public static byte[] bytes(ObjectNode message) {
    try {
      return Json.mapper().writeValueAsBytes(message);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Serves PEMs by URL and counts what it was asked for; an unknown URL fails like an unreachable host. */
  public static final class FakeFetcher implements CertificateFetcher {
    public final Map<URI, byte[]> served = new ConcurrentHashMap<>();
    public final List<URI> fetched = new CopyOnWriteArrayList<>();

    public FakeFetcher serve(String url, byte[] pem) {
      served.put(URI.create(url), pem);
      return this;
    }

    @Override
    public CompletionStage<byte[]> fetch(URI url) {
      fetched.add(url);
      byte[] pem = served.get(url);
      return pem == null
          ? CompletableFuture.failedFuture(new SnsUnavailable("certificate_unavailable", "nothing served at " + url,
              false, null))
          : CompletableFuture.completedFuture(pem);
    }
  }

  /** Records every subscribe link it is asked to visit; {@code failure} makes the visit fail. */
  public static final class RecordingConfirmer implements SubscriptionConfirmer {
    public final List<URI> visited = new CopyOnWriteArrayList<>();
    public volatile SnsUnavailable failure;

    @Override
    public CompletionStage<Void> confirm(URI subscribeUrl) {
      visited.add(subscribeUrl);
      return failure == null ? CompletableFuture.completedFuture(null) : CompletableFuture.failedFuture(failure);
    }
  }

  /** Verifier over the fixture CA, allowing {@code topics}. */
  public static SnsVerifier verifier(FakeFetcher fetcher, Set<String> topics) {
    var certificates = new SigningCertificates(fetcher, anchors(), List.of(), Set.of("sns.amazonaws.com"), 8, CLOCK);
    return new SnsVerifier(new SnsVerifier.Settings(topics, Duration.ofMinutes(65), Duration.ofMinutes(5)),
        certificates, CLOCK);
  }

  public static FakeFetcher servingSnsCert() {
    return new FakeFetcher().serve(CERT_URL, pem(SNS_CERT));
  }
}
