package warmgate.ingest.sns;

import java.net.URI;
import java.util.concurrent.CompletionStage;

/**
 * Visits a subscribe link that {@link AwsSnsUrls} has already accepted, which is how an HTTP(S) subscription
 * is confirmed. Production uses {@link AwsHttp}; tests record the call.
 */
public interface SubscriptionConfirmer {

  /** Completes once SNS answered 2xx; fails with {@link SnsUnavailable} otherwise. */
  CompletionStage<Void> confirm(URI subscribeUrl);
}
