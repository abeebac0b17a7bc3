package warmgate.provider.sagemaker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.services.sagemakerruntime.SageMakerRuntimeAsyncClient;
import software.amazon.awssdk.services.sagemakerruntime.model.InvokeEndpointAsyncRequest;
import software.amazon.awssdk.services.sagemakerruntime.model.InvokeEndpointAsyncResponse;
import warmgate.Failures;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.job.ObjectRef;
import warmgate.provider.AsyncInferenceClient;
import warmgate.provider.InferenceClient;
import warmgate.provider.InferenceException;
import warmgate.provider.Invocation;

/**
 * Calls a SageMaker asynchronous endpoint ({@code provider = sagemaker-async}): InvokeEndpointAsync with the request
 * staged in S3, the job id as {@code InferenceId}, and the answer written to the EndpointConfig's output path (or
 * failure path), which SNS or an upload event announces.
 *
 * <p>Keys of the endpoint's block beside those of {@link SageMakerEndpoint}, under {@code async}: {@code staging}
 * (required, {@code s3://bucket/prefix/}; a job's request is {@code <staging><job id>/request.json}), {@code input}
 * ({@code body}: the staged object is the request Warmgate builds, inputs inlined; {@code s3-uris}: it names the
 * inputs' S3 URIs for a model that reads them itself), {@code invocation-timeout} (15m; 1 s to 3,600 s),
 * {@code request-ttl} (6h; 60 s to 6 h), {@code output-path} (required: the AsyncInferenceConfig's S3OutputPath) and
 * {@code failure-path} (its S3FailurePath, if it has one).
 */
public final class SageMakerAsync implements InferenceClient, AsyncInferenceClient {

  /** InvokeEndpointAsync only queues the request; it answers at once. */
  static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

  private final String endpointName;
  private final SageMakerSettings.Async settings;
  private final SageMakerRuntimeAsyncClient runtime;

  SageMakerAsync(String endpointName, SageMakerSettings.Async settings, SageMakerRuntimeAsyncClient runtime) {
    this.endpointName = endpointName;
    this.settings = settings;
    this.runtime = runtime;
  }

  /**
   * Binds an asynchronous endpoint: created and deleted as {@link SageMakerEndpoint} does, invoked through
   * InvokeEndpointAsync.
   *
   * @throws IllegalArgumentException when the block is incomplete or malformed
   */
  public static ManagedEndpoint bind(EndpointSettings settings, SageMakerClients clients) {
    SageMakerSettings.Block block = SageMakerSettings.block(settings);
    SageMakerSettings.Async async = SageMakerSettings.async(settings);
    var endpoint = new SageMakerEndpoint(block.endpointName(), block.endpointConfigNames(),
        clients.controlPlane(block.connection()));
    var client = new SageMakerAsync(block.endpointName(), async, clients.runtime(block.connection()));
    return new ManagedEndpoint(settings, endpoint, client);
  }

  /**
   * Checks the endpoint's block, its {@code async} block included.
   *
   * @throws IllegalArgumentException when the block is incomplete or malformed
   */
  static void validate(EndpointSettings settings) {
    SageMakerSettings.block(settings);
    SageMakerSettings.async(settings);
  }

  /** Refuses: an asynchronous endpoint takes its request from S3, through {@link #invokeAsync}. */
  @Override
  public CompletionStage<InferenceResponse> invoke(String contentType, byte[] body) {
    return SageMakerCalls.failed(InferenceException.permanent("SageMaker endpoint " + endpointName
        + " is asynchronous (provider = sagemaker-async): it is invoked through invokeAsync with its request "
        + "staged in S3, never with the request inline"));
  }

  @Override
  public ObjectRef stagingFor(String jobId) {
    return new ObjectRef(settings.staging().bucket(), settings.staging().key() + jobId + "/request.json");
  }

  @Override
  public boolean inputsByReference() {
    return settings.inputsByReference();
  }

  @Override
  public CompletionStage<Accepted> invokeAsync(Invocation invocation, ObjectRef input) {
    var request = InvokeEndpointAsyncRequest.builder()
        .endpointName(endpointName)
        .contentType(invocation.contentType())
        .inputLocation(input.toString())
        .inferenceId(invocation.jobId())
        .customAttributes(SageMakerRealtime.customAttributes(invocation.jobId(), invocation.attempt()))
        .invocationTimeoutSeconds((int) settings.invocationTimeout().toSeconds())
        .requestTTLSeconds((int) settings.requestTtl().toSeconds())
        .overrideConfiguration(o -> o.apiCallTimeout(CALL_TIMEOUT))
        .build();
    return SageMakerCalls.settle(runtime.invokeEndpointAsync(request), r -> accepted(invocation.jobId(), r),
        failure -> SageMakerCalls.failed(classify(failure)));
  }

  private Accepted accepted(String jobId, InvokeEndpointAsyncResponse r) {
    String id = r.inferenceId() == null ? jobId : r.inferenceId();
    if (r.outputLocation() == null) {
      throw new InferenceException(InferenceException.Kind.TRANSIENT, where() + "InvokeEndpointAsync accepted "
          + "inference " + id + " without saying where its answer goes");
    }
    try {
      return new Accepted(id, ObjectRef.parse("OutputLocation", r.outputLocation()),
          r.failureLocation() == null ? null : ObjectRef.parse("FailureLocation", r.failureLocation()));
    } catch (RuntimeException e) {
      throw InferenceException.permanent(where() + "InvokeEndpointAsync answered locations Warmgate cannot use ("
          + e.getMessage() + "); check the EndpointConfig's output and failure paths");
    }
  }

  @Override
  public Duration resultWithin() {
    return settings.invocationTimeout().plus(settings.requestTtl());
  }

  @Override
  public List<ObjectRef> resultPrefixes() {
    List<ObjectRef> prefixes = new ArrayList<>();
    prefixes.add(settings.outputPath());
    if (settings.failurePath() != null) {
      prefixes.add(settings.failurePath());
    }
    return List.copyOf(prefixes);
  }

  private String where() {
    return "SageMaker endpoint " + endpointName + ": ";
  }

  /** As for real-time invocations: the endpoint missing is transient, any other validation error permanent. */
  InferenceException classify(Throwable failure) {
    Throwable t = Failures.unwrap(failure);
    if (t instanceof ApiCallTimeoutException) {
      return new InferenceException(InferenceException.Kind.TRANSIENT, where() + "InvokeEndpointAsync did not "
          + "answer within " + CALL_TIMEOUT.toSeconds() + " s", t);
    }
    return new SageMakerRealtime(endpointName, null, CALL_TIMEOUT, runtime).classify(t);
  }
}
