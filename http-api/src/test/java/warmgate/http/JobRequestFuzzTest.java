package warmgate.http;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import warmgate.auth.Principal;
import warmgate.config.WebhookSettings;
import warmgate.ingest.ObjectPolicy;
import warmgate.testing.FuzzProperty;

// No I/O: fuzz targets for the bodies of POST /v1/jobs and of retry/reject; the normal build replays
// JobRequestFuzzTestInputs/ (docs/testing.md).
class JobRequestFuzzTest {
  private static final WebhookSettings WEBHOOKS = new WebhookSettings("s3cret", List.of("hooks.example.com"), false,
      Duration.ofSeconds(5), 3, Duration.ofSeconds(1), Duration.ofSeconds(10));

  @FuzzTest
  void jobRequest(byte[] input) {
    FuzzProperty.onlyInvalidInput(() -> JobRequest.parse(input, Set.of("gen3d"), ObjectPolicy.open(),
        Principal.UNAUTHENTICATED, WEBHOOKS));
  }

  /** The optional body of retry and reject. */
  @FuzzTest
  void reasonBody(byte[] input) {
    FuzzProperty.onlyInvalidInput(() -> ReasonBody.parse(input));
  }
}
