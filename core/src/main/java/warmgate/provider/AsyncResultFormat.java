package warmgate.provider;

import java.util.Optional;

/**
 * Reads a platform's notifications of finished asynchronous invocations, as a notification route receives them (the
 * {@code Message} of an SNS notification).
 */
public interface AsyncResultFormat {

  /**
   * @return the result, or empty when {@code message} is not one of this platform's results (an S3 event, say)
   * @throws IllegalArgumentException when it is one, but malformed
   */
  Optional<AsyncResult> parse(String message);
}
