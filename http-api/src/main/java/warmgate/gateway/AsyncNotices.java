package warmgate.gateway;

import warmgate.job.ObjectRef;
import warmgate.provider.AsyncResult;

/**
 * Word that an asynchronous invocation may have ended, passed to whoever waits for it. Both are hints: the job looks
 * at the place its invocation answers and reads the outcome from there, so a lost, late or repeated word changes
 * nothing but how soon it looks.
 */
public interface AsyncNotices {

  /** A platform says invocation {@code result.inferenceId()} (a job id: Warmgate sends it) ended. */
  void resultNoticed(AsyncResult result);

  /** An object was written under asynchronous endpoint {@code endpoint}'s result path. */
  void resultLanded(String endpoint, ObjectRef location);
}
