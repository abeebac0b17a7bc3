package warmgate.ingest.sns;

import java.net.URI;
import java.util.concurrent.CompletionStage;

/**
 * Gets the bytes at a signing certificate URL that {@link AwsSnsUrls} has already accepted. Production uses
 * {@link AwsHttp}; tests serve a certificate from their own CA.
 */
public interface CertificateFetcher {

  /** Completes with the body of a 200 answer; fails with {@link SnsUnavailable} otherwise. */
  CompletionStage<byte[]> fetch(URI url);
}
