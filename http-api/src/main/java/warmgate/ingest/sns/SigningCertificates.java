package warmgate.ingest.sns;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import warmgate.Failures;

/**
 * SNS signing certificates by URL: fetched once, checked once, kept in a bounded cache. A certificate is
 * believed when it chains to a trust anchor (the JDK's trust store in production), is within its validity
 * dates, and names SNS; the dates are checked again on every use, so a cached certificate that expires stops
 * being believed. Revocation is not checked (that would be another outbound request on every new
 * certificate). A failed fetch or check is not cached: the next delivery tries again.
 */
public final class SigningCertificates {
  private final CertificateFetcher fetcher;
  private final Set<TrustAnchor> anchors;
  private final List<X509Certificate> intermediates;
  private final Set<String> names;
  private final Clock clock;
  private final Map<URI, CompletableFuture<X509Certificate>> cache;

  /**
   * @param intermediates CA certificates that may complete a chain the fetched PEM leaves incomplete; never trusted on
   * their own
   * @param names the leaf must carry one of these as its common name or a DNS name; empty: any name
   * @param capacity certificates kept; the least recently used one goes first
   */
  public SigningCertificates(CertificateFetcher fetcher, Set<TrustAnchor> anchors, List<X509Certificate> intermediates,
      Set<String> names, int capacity, Clock clock) {
    if (anchors.isEmpty()) {
      throw new IllegalArgumentException("at least one trust anchor is needed");
    }
    this.fetcher = fetcher;
    this.anchors = Set.copyOf(anchors);
    this.intermediates = List.copyOf(intermediates);
    this.names = Set.copyOf(names);
    this.clock = clock;
    this.cache = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<URI, CompletableFuture<X509Certificate>> eldest) {
        return size() > capacity;
      }
    };
  }

  /** The JDK's default trust store, as production trusts it. */
  public static Set<TrustAnchor> jdkTrustAnchors() {
    try {
      TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init((KeyStore) null);
      Set<TrustAnchor> anchors = new HashSet<>();
      for (TrustManager manager : factory.getTrustManagers()) {
        if (manager instanceof X509TrustManager x509) {
          for (X509Certificate ca : x509.getAcceptedIssuers()) {
            anchors.add(new TrustAnchor(ca, null));
          }
        }
      }
      return anchors;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK's trust store could not be read", e);
    }
  }

  /** Reads every certificate in a PEM (or DER) bundle. */
  public static List<X509Certificate> read(byte[] bundle) throws CertificateException {
    List<X509Certificate> certificates = new ArrayList<>();
    for (Certificate certificate : CertificateFactory.getInstance("X.509")
        .generateCertificates(new ByteArrayInputStream(bundle))) {
      if (certificate instanceof X509Certificate x509) {
        certificates.add(x509);
      }
    }
    return certificates;
  }

  /** The believed certificate at {@code url}; fails with {@link SnsRefused} or {@link SnsUnavailable}. */
  public CompletionStage<X509Certificate> get(URI url) {
    CompletableFuture<X509Certificate> entry;
    boolean fetchHere = false;
    synchronized (cache) {
      entry = cache.get(url);
      if (entry == null) {
        entry = new CompletableFuture<>();
        cache.put(url, entry);
        fetchHere = true;
      }
    }
    if (fetchHere) {
      CompletableFuture<X509Certificate> pending = entry;
      CompletionStage<byte[]> fetched;
      try {
        fetched = fetcher.fetch(url);
      } catch (RuntimeException e) {
        fetched = CompletableFuture.failedFuture(e);
      }
      fetched.thenApply(this::believe).whenComplete((certificate, failure) -> {
        if (failure != null) {
          synchronized (cache) {
            cache.remove(url, pending);
          }
          pending.completeExceptionally(Failures.unwrap(failure));
        } else {
          pending.complete(certificate);
        }
      });
    }
    return entry.thenApply(certificate -> {
      checkDates(certificate);
      return certificate;
    });
  }

  /** Certificates currently cached (including ones still being fetched). */
  public int size() {
    synchronized (cache) {
      return cache.size();
    }
  }

  private X509Certificate believe(byte[] pem) {
    List<X509Certificate> served;
    try {
      served = read(pem);
    } catch (CertificateException e) {
      throw untrusted("the signing certificate URL did not serve a PEM certificate");
    }
    if (served.isEmpty()) {
      throw untrusted("the signing certificate URL did not serve a PEM certificate");
    }
    X509Certificate leaf = served.get(0);
    checkDates(leaf);
    if (!names.isEmpty() && names.stream().noneMatch(name(leaf)::contains)) {
      throw untrusted("the signing certificate is issued to " + leaf.getSubjectX500Principal().getName()
          + ", not to one of " + names + " (warmgate.sns.certificate-names)");
    }
    boolean[] usage = leaf.getKeyUsage();
    if (usage != null && !usage[0]) {
      throw untrusted("the signing certificate may not be used for signatures");
    }
    try {
      var selector = new X509CertSelector();
      selector.setCertificate(leaf);
      var parameters = new PKIXBuilderParameters(anchors, selector);
      parameters.setRevocationEnabled(false);
      parameters.setDate(Date.from(clock.instant()));
      Collection<X509Certificate> pool = new ArrayList<>(served);
      pool.addAll(intermediates);
      parameters.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(pool)));
      CertPathBuilder.getInstance("PKIX").build(parameters);
    } catch (CertPathBuilderException e) {
      throw untrusted("the signing certificate (issued by " + leaf.getIssuerX500Principal().getName()
          + ") does not chain to a trusted CA; if that issuer is an Amazon Trust Services intermediate Warmgate does "
          + "not ship, put its PEM (https://www.amazontrust.com/repository/) in "
          + "warmgate.sns.intermediate-certificates");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the certificate path could not be checked", e);
    }
    return leaf;
  }

  private void checkDates(X509Certificate certificate) {
    try {
      certificate.checkValidity(Date.from(clock.instant()));
    } catch (CertificateExpiredException e) {
      throw untrusted("the signing certificate expired on " + certificate.getNotAfter().toInstant());
    } catch (CertificateNotYetValidException e) {
      throw untrusted("the signing certificate is valid only from " + certificate.getNotBefore().toInstant());
    }
  }

  /** The certificate's common names and DNS names. */
  private static Set<String> name(X509Certificate certificate) {
    Set<String> found = new HashSet<>();
    try {
      for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          found.add(String.valueOf(rdn.getValue()));
        }
      }
    } catch (InvalidNameException e) {
      // No readable common name; the DNS names may still match.
    }
    try {
      var alternatives = certificate.getSubjectAlternativeNames();
      if (alternatives != null) {
        for (List<?> alternative : alternatives) {
          if (alternative.size() == 2 && Integer.valueOf(2).equals(alternative.get(0))) {
            found.add(String.valueOf(alternative.get(1)));
          }
        }
      }
    } catch (CertificateException e) {
      // Unreadable alternative names count as none.
    }
    return found;
  }

  private static SnsRefused untrusted(String message) {
    return new SnsRefused("untrusted_certificate", message);
  }
}
