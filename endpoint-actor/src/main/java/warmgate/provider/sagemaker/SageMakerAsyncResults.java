package warmgate.provider.sagemaker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Optional;
import warmgate.job.ObjectRef;
import warmgate.provider.AsyncResult;
import warmgate.provider.AsyncResultFormat;

/**
 * Reads SageMaker Asynchronous Inference's notifications, the {@code Message} its success and error SNS topics carry
 * ("Check prediction results", https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-check-predictions.html):
 * {@code eventSource = aws:sagemaker}, {@code eventName = InferenceResult}, {@code invocationStatus} {@code Completed}
 * (with {@code responseParameters.outputLocation}) or {@code Failed} (with {@code failureReason}, and a failure
 * location when SageMaker gives one), and the {@code inferenceId} Warmgate sent: the job id.
 */
public final class SageMakerAsyncResults implements AsyncResultFormat {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @Override
  public Optional<AsyncResult> parse(String message) {
    JsonNode event;
    try {
      event = MAPPER.readTree(message);
    } catch (JsonProcessingException e) {
      return Optional.empty(); // not JSON, so none of SageMaker's
    }
    if (event == null || !event.isObject() || !"aws:sagemaker".equals(event.path("eventSource").asText(null))
        || !"InferenceResult".equals(event.path("eventName").asText(null))) {
      return Optional.empty();
    }
    String inferenceId = text(event, "inferenceId");
    if (inferenceId == null) {
      throw new IllegalArgumentException("SageMaker InferenceResult without an inferenceId");
    }
    String status = text(event, "invocationStatus");
    JsonNode response = event.path("responseParameters");
    if ("Completed".equals(status)) {
      return Optional.of(new AsyncResult(inferenceId, true, location(text(response, "outputLocation")), null));
    }
    if ("Failed".equals(status)) {
      String failure = text(response, "failureLocation");
      if (failure == null) {
        failure = text(event, "failureLocation");
      }
      String reason = text(event, "failureReason");
      return Optional.of(new AsyncResult(inferenceId, false, location(failure),
          reason == null ? "SageMaker reported the inference failed without a reason" : reason));
    }
    throw new IllegalArgumentException("SageMaker InferenceResult " + inferenceId + " has invocationStatus '"
        + status + "', not Completed or Failed");
  }

  private static ObjectRef location(String uri) {
    if (uri == null) {
      return null;
    }
    try {
      return ObjectRef.parse(uri);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("SageMaker InferenceResult names a location Warmgate cannot use: "
          + e.getMessage(), e);
    }
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.path(field);
    return value.isTextual() && !value.asText().isBlank() ? value.asText() : null;
  }
}
