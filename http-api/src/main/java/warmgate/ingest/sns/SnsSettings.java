package warmgate.ingest.sns;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueType;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code warmgate.sns}: which topics are accepted and how their messages are checked (docs/configuration.md).
 *
 * @param amazonIntermediates whether the Amazon Trust Services intermediates shipped with Warmgate
 *     ({@link #AMAZON_INTERMEDIATES}) complete signing certificates' chains; SNS serves the leaf alone
 * @param intermediateCertificates a PEM bundle of CA certificates that may complete a signing certificate's
 *     chain; empty path: none
 */
public record SnsSettings(
    Set<String> topicArns,
    Duration maxMessageAge,
    Duration maxClockSkew,
    Set<String> certificateNames,
    boolean amazonIntermediates,
    String intermediateCertificates,
    int certificateCacheSize,
    Duration connectTimeout,
    Duration requestTimeout,
    int maxResponseBytes) {

  /**
   * The classpath PEM of Amazon Trust Services' intermediates that issue SNS signing certificates (Amazon RSA 2048
   * M01 to M04, and the retired Server CA 1B), each signed by Amazon Root CA 1.
   */
  public static final String AMAZON_INTERMEDIATES = "warmgate/ingest/sns/amazon-trust-services-intermediates.pem";

  public static SnsSettings fromConfig(Config warmgate) {
    Config sns = warmgate.getConfig("sns");
    Set<String> topics = new LinkedHashSet<>();
    for (String arn : sns.getValue("topic-arns").valueType() == ConfigValueType.STRING
        ? List.of(sns.getString("topic-arns").split(","))
        : sns.getStringList("topic-arns")) {
      if (!arn.isBlank()) {
        topics.add(TopicArn.parse(arn.strip()).arn());
      }
    }
    return new SnsSettings(
        topics,
        sns.getDuration("max-message-age"),
        sns.getDuration("max-clock-skew"),
        new LinkedHashSet<>(sns.getStringList("certificate-names")),
        sns.getBoolean("amazon-intermediates"),
        sns.getString("intermediate-certificates"),
        sns.getInt("certificate-cache-size"),
        sns.getDuration("connect-timeout"),
        sns.getDuration("request-timeout"),
        Math.toIntExact(sns.getBytes("max-response-bytes")));
  }

  public SnsVerifier.Settings verifier() {
    return new SnsVerifier.Settings(topicArns, maxMessageAge, maxClockSkew);
  }

  /**
   * The intermediate CA certificates that may complete a chain: the shipped Amazon ones (when on), then the configured
   * file's; fails at start when the file cannot be read.
   */
  public List<X509Certificate> intermediates() {
    List<X509Certificate> all = new ArrayList<>();
    if (amazonIntermediates) {
      all.addAll(amazonTrustServicesIntermediates());
    }
    if (!intermediateCertificates.isBlank()) {
      try {
        all.addAll(SigningCertificates.read(Files.readAllBytes(Path.of(intermediateCertificates))));
      } catch (java.io.IOException | CertificateException e) {
        throw new IllegalStateException("warmgate.sns.intermediate-certificates: " + intermediateCertificates
            + " could not be read as PEM certificates: " + e.getMessage(), e);
      }
    }
    return all;
  }

  /** The intermediates shipped in {@link #AMAZON_INTERMEDIATES}. */
  public static List<X509Certificate> amazonTrustServicesIntermediates() {
    try (InputStream in = SnsSettings.class.getClassLoader().getResourceAsStream(AMAZON_INTERMEDIATES)) {
      if (in == null) {
        throw new IllegalStateException(AMAZON_INTERMEDIATES + " is missing from the classpath");
      }
      return SigningCertificates.read(in.readAllBytes());
    } catch (java.io.IOException | CertificateException e) {
      throw new IllegalStateException(AMAZON_INTERMEDIATES + " could not be read: " + e.getMessage(), e);
    }
  }
}
