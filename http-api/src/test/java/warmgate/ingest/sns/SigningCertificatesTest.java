package warmgate.ingest.sns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static warmgate.ingest.sns.SnsFixture.CA;
import static warmgate.ingest.sns.SnsFixture.CA_KEYS;
import static warmgate.ingest.sns.SnsFixture.CERT_URL;
import static warmgate.ingest.sns.SnsFixture.CLOCK;
import static warmgate.ingest.sns.SnsFixture.NOW;
import static warmgate.ingest.sns.SnsFixture.ROGUE_CA;
import static warmgate.ingest.sns.SnsFixture.ROGUE_KEYS;
import static warmgate.ingest.sns.SnsFixture.SNS_CERT;
import static warmgate.ingest.sns.SnsFixture.SNS_KEYS;
import static warmgate.ingest.sns.SnsFixture.pem;

import java.net.URI;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import warmgate.ingest.sns.SnsFixture.FakeFetcher;

// Certificate trust and the cache, against a CA made in the test; no network.
class SigningCertificatesTest {
  private static final URI URL = URI.create(CERT_URL);

  private static SigningCertificates certificates(FakeFetcher fetcher, List<X509Certificate> intermediates,
      int capacity, Clock clock) {
    return new SigningCertificates(fetcher, SnsFixture.anchors(), intermediates, Set.of("sns.amazonaws.com"), capacity,
        clock);
  }

  private static X509Certificate get(SigningCertificates certificates, URI url) {
    try {
      return certificates.get(url).toCompletableFuture().join();
    } catch (CompletionException e) {
      throw (RuntimeException) e.getCause();
    }
  }

  private static void assertUntrusted(SigningCertificates certificates, String why) {
    assertThatThrownBy(() -> get(certificates, URL))
        .isInstanceOfSatisfying(SnsRefused.class, e -> assertThat(e.code()).isEqualTo("untrusted_certificate"))
        .hasMessageContaining(why);
  }

  @Test
  void certificateIssuedByTheTrustedCaIsBelieved() {
    var fetcher = SnsFixture.servingSnsCert();

    assertThat(get(certificates(fetcher, List.of(), 8, CLOCK), URL)).isEqualTo(SNS_CERT);
  }

  @Test
  void certificateIsFetchedOnceForManyMessages() {
    var fetcher = SnsFixture.servingSnsCert();
    var certificates = certificates(fetcher, List.of(), 8, CLOCK);

    get(certificates, URL);
    get(certificates, URL);
    get(certificates, URL);

    assertThat(fetcher.fetched).containsExactly(URL);
  }

  @Test
  void cacheIsBoundedAndDropsTheLeastRecentlyUsed() {
    var fetcher = new FakeFetcher();
    List<URI> urls = List.of("a0", "b0", "c0").stream().map(hex -> URI.create(CERT_URL.replace("0123", hex))).toList();
    urls.forEach(url -> fetcher.serve(url.toString(), pem(SNS_CERT)));
    var certificates = certificates(fetcher, List.of(), 2, CLOCK);

    urls.forEach(url -> get(certificates, url));
    get(certificates, urls.get(2));
    get(certificates, urls.get(0));

    assertThat(certificates.size()).isEqualTo(2);
    assertThat(fetcher.fetched).containsExactly(urls.get(0), urls.get(1), urls.get(2), urls.get(0));
  }

  @Test
  void failedFetchIsNotCachedSoTheNextDeliveryTriesAgain() {
    var fetcher = new FakeFetcher();
    var certificates = certificates(fetcher, List.of(), 8, CLOCK);

    assertThatThrownBy(() -> get(certificates, URL)).isInstanceOf(SnsUnavailable.class);
    fetcher.serve(CERT_URL, pem(SNS_CERT));

    assertThat(get(certificates, URL)).isEqualTo(SNS_CERT);
    assertThat(fetcher.fetched).hasSize(2);
  }

  @Test
  void certificateFromAnotherCaIsRefusedEvenWhenThePemCarriesThatCa() {
    X509Certificate forged = SnsFixture.issue("CN=sns.amazonaws.com", SNS_KEYS, ROGUE_CA, ROGUE_KEYS, false,
        NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(30)));
    var fetcher = new FakeFetcher().serve(CERT_URL, pem(forged, ROGUE_CA));

    assertUntrusted(certificates(fetcher, List.of(), 8, CLOCK), "does not chain to a trusted CA");
  }

  @Test
  void selfSignedCertificateIsRefused() {
    X509Certificate self = SnsFixture.issue("CN=sns.amazonaws.com", SNS_KEYS, null, SNS_KEYS, false,
        NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(30)));

    assertUntrusted(certificates(new FakeFetcher().serve(CERT_URL, pem(self)), List.of(), 8, CLOCK), "does not chain");
  }

  @Test
  void expiredAndNotYetValidCertificatesAreRefused() {
    X509Certificate expired = SnsFixture.issue("CN=sns.amazonaws.com", SNS_KEYS, CA, CA_KEYS, false,
        NOW.minus(Duration.ofDays(400)), NOW.minus(Duration.ofDays(35)));
    X509Certificate future = SnsFixture.issue("CN=sns.amazonaws.com", SNS_KEYS, CA, CA_KEYS, false,
        NOW.plus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(30)));

    assertUntrusted(certificates(new FakeFetcher().serve(CERT_URL, pem(expired)), List.of(), 8, CLOCK), "expired");
    assertUntrusted(certificates(new FakeFetcher().serve(CERT_URL, pem(future)), List.of(), 8, CLOCK),
        "valid only from");
  }

  @Test
  void cachedCertificateStopsBeingBelievedOnceItExpires() {
    var fetcher = SnsFixture.servingSnsCert();
    var clock = new MutableClock();
    var certificates = certificates(fetcher, List.of(), 8, clock);
    get(certificates, URL);

    clock.now = SNS_CERT.getNotAfter().toInstant().plusSeconds(1);

    assertUntrusted(certificates, "expired");
    assertThat(fetcher.fetched).hasSize(1);
  }

  @Test
  void certificateIssuedToAnotherNameIsRefused() {
    X509Certificate other = SnsFixture.issue("CN=www.example.com", SNS_KEYS, CA, CA_KEYS, false,
        NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(30)));

    assertUntrusted(certificates(new FakeFetcher().serve(CERT_URL, pem(other)), List.of(), 8, CLOCK), "not to one of");
  }

  @Test
  void chainIsCompletedFromThePemOrFromConfiguredIntermediates() {
    var intermediateKeys = SnsFixture.rsa();
    X509Certificate intermediate = SnsFixture.issue("CN=Warmgate Test Intermediate", intermediateKeys, CA, CA_KEYS,
        true,
        NOW.minus(Duration.ofDays(10)), NOW.plus(Duration.ofDays(300)));
    X509Certificate leaf = SnsFixture.issue("CN=sns.amazonaws.com", SNS_KEYS, intermediate, intermediateKeys, false,
        NOW.minus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(30)));

    assertThat(get(certificates(new FakeFetcher().serve(CERT_URL, pem(leaf, intermediate)), List.of(), 8, CLOCK),
        URL)).isEqualTo(leaf);
    assertThat(get(certificates(new FakeFetcher().serve(CERT_URL, pem(leaf)), List.of(intermediate), 8, CLOCK),
        URL)).isEqualTo(leaf);
    assertUntrusted(certificates(new FakeFetcher().serve(CERT_URL, pem(leaf)), List.of(), 8, CLOCK), "intermediate");
  }

  @Test
  void somethingOtherThanACertificateIsRefused() {
    var fetcher = new FakeFetcher().serve(CERT_URL, "<html>hello</html>".getBytes());

    assertUntrusted(certificates(fetcher, List.of(), 8, CLOCK), "did not serve a PEM certificate");
  }

  @Test
  void jdkTrustStoreIsReadForProduction() {
    assertThat(SigningCertificates.jdkTrustAnchors()).isNotEmpty();
  }

  private static final class MutableClock extends Clock {
    volatile java.time.Instant now = NOW;

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public java.time.Instant instant() {
      return now;
    }
  }
}
