package warmgate.provider;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import warmgate.job.ObjectRef;

/**
 * A model called asynchronously (SageMaker Asynchronous Inference): the request is staged in the blob store, the
 * call only queues it, and the answer is written to a place the call names. The job learns that the answer is
 * there from a pushed notification ({@link AsyncResultFormat}), an upload event on {@link #resultPrefixes}, or by
 * looking, whichever comes first.
 */
public interface AsyncInferenceClient {

  /** Where the job's request is staged for the model to read; the same place for every attempt of the job. */
  ObjectRef stagingFor(String jobId);

  /**
   * Whether the staged request names the inputs by their URIs ({@code s3://bucket/key}) instead of carrying their
   * bytes, for a model that reads its inputs itself.
   */
  boolean inputsByReference();

  /**
   * Queues the staged request. Fails with {@link InferenceException}.
   *
   * @return where the answer will be written, as the platform says
   */
  CompletionStage<Accepted> invokeAsync(Invocation invocation, ObjectRef input);

  /** How long after it was accepted an answer may still come; a job that has none by then tries again. */
  Duration resultWithin();

  /** Where answers and failures are written, so that upload events there can prompt the waiting jobs to look. */
  List<ObjectRef> resultPrefixes();

  /**
   * A queued request.
   *
   * @param output where the model's answer will be written
   * @param failure where the platform writes the failure instead, or null if it does not say
   */
  record Accepted(String inferenceId, ObjectRef output, ObjectRef failure) {}
}
