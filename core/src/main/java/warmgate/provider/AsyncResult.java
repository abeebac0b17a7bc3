package warmgate.provider;

import warmgate.job.ObjectRef;

/**
 * A platform's word that an asynchronous invocation ended (SageMaker's {@code InferenceResult} on SNS). A hint that
 * the job may look now: the job acts only on a location it recorded when its invocation was accepted.
 *
 * @param inferenceId the invocation's id; Warmgate sends the job id
 * @param location where the answer (or the failure) was written, or null if the message does not say
 * @param failureReason the platform's reason when {@code succeeded} is false
 */
public record AsyncResult(String inferenceId, boolean succeeded, ObjectRef location, String failureReason) {}
