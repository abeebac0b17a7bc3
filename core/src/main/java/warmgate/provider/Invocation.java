package warmgate.provider;

/**
 * One request to a model, with the job it serves: providers that can pass the job along (SageMaker's
 * {@code InferenceId} and custom attributes) do, so the model's logs can be matched to Warmgate's.
 *
 * @param attempt the job's attempt, from 1
 */
public record Invocation(String jobId, int attempt, String contentType, byte[] body) {}
