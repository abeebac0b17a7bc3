// Real HTTP on loopback: the AWS SDK v2 clients against the SageMaker stand-in's asynchronous inference.
package warmgate.provider.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static warmgate.provider.sagemaker.SageMakerTesting.await;
import static warmgate.provider.sagemaker.SageMakerTesting.eventually;
import static warmgate.provider.sagemaker.SageMakerTesting.inferenceFailure;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.job.ObjectRef;
import warmgate.provider.AsyncInferenceClient;
import warmgate.provider.AsyncInferenceClient.Accepted;
import warmgate.provider.AsyncResult;
import warmgate.provider.InferenceException;
import warmgate.provider.Invocation;
import warmgate.provider.ProviderState.Status;
import warmgate.provider.sagemaker.SageMakerStandIn.AsyncConfig;
import warmgate.provider.sagemaker.SageMakerStandIn.Reply;

class SageMakerAsyncTest {
  private static final String CONFIG = "gen3d-async-config";
  private static final String SUCCESS_TOPIC = "arn:aws:sns:us-east-1:123456789012:gen3d-success";
  private static final String ERROR_TOPIC = "arn:aws:sns:us-east-1:123456789012:gen3d-error";

  private static SageMakerStandIn standIn;
  private static SageMakerClients clients;
  private static int counter;

  private final SageMakerAsyncResults results = new SageMakerAsyncResults();
  private MemoryAsyncBackend backend;
  private String name;

  @BeforeAll
  static void startStandIn() {
    standIn = SageMakerStandIn.start().creationDelay(Duration.ofMillis(50)).asyncEndpointConfig(CONFIG,
        new AsyncConfig("s3://results/gen3d/out", "s3://results/gen3d/failed", SUCCESS_TOPIC, ERROR_TOPIC));
    clients = new SageMakerClients();
  }

  @AfterAll
  static void stopStandIn() {
    clients.close();
    standIn.close();
  }

  @BeforeEach
  void freshEndpoint() {
    name = "gen3d-async-" + (++counter);
    backend = new MemoryAsyncBackend();
    standIn.asyncBackend(backend).asyncProcessingDelay(Duration.ofMillis(50)).dropNotifications(false);
    standIn.model(name, inv -> Reply.answer("application/octet-stream", "ply:" + inv.bodyText()));
    standIn.resetCalls();
  }

  @Test
  void invokeAsyncIsAcceptedWithTheLocationsSageMakerNames() {
    var endpoint = startedEndpoint();
    var client = (AsyncInferenceClient) endpoint.client();
    ObjectRef input = client.stagingFor("job-1");
    backend.put(input.toString(), "chair".getBytes(StandardCharsets.UTF_8));

    Accepted accepted = await(client.invokeAsync(new Invocation("job-1", 2, "application/json", new byte[0]), input));

    SageMakerStandIn.AsyncInvocation seen = standIn.asyncInvocations().stream()
        .filter(i -> i.endpointName().equals(name)).findFirst().orElseThrow();
    assertThat(accepted.inferenceId()).isEqualTo("job-1");
    assertThat(accepted.output().toString()).isEqualTo(seen.outputLocation()).startsWith("s3://results/gen3d/out/")
        .endsWith(".out");
    assertThat(accepted.failure().toString()).isEqualTo(seen.failureLocation())
        .startsWith("s3://results/gen3d/failed/");
    assertThat(seen.inputLocation()).isEqualTo("s3://staging/gen3d/job-1/request.json");
    assertThat(seen.contentType()).isEqualTo("application/json");
    assertThat(seen.inferenceId()).isEqualTo("job-1");
    assertThat(seen.customAttributes()).isEqualTo("warmgate-job-id=job-1;warmgate-attempt=2");
    assertThat(seen.invocationTimeoutSeconds()).isEqualTo(1800);
    assertThat(seen.requestTtlSeconds()).isEqualTo(3600);
    assertThat(standIn.calls("InvokeEndpointAsync")).isEqualTo(1);
  }

  @Test
  void theModelsAnswerIsWrittenToTheOutputAndAnnouncedOnTheSuccessTopic() {
    var client = (AsyncInferenceClient) startedEndpoint().client();
    ObjectRef input = client.stagingFor("job-2");
    backend.put(input.toString(), "table".getBytes(StandardCharsets.UTF_8));

    Accepted accepted = await(client.invokeAsync(new Invocation("job-2", 1, "application/json", new byte[0]), input));

    var published = backend.nextPublished(SageMakerTesting.DEADLINE).orElseThrow();
    assertThat(published.topicArn()).isEqualTo(SUCCESS_TOPIC);
    assertThat(results.parse(published.message()))
        .contains(new AsyncResult("job-2", true, accepted.output(), null));
    assertThat(backend.object(accepted.output().toString()).orElseThrow().body())
        .isEqualTo("ply:table".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aModelFailureIsWrittenToTheFailurePathAndAnnouncedOnTheErrorTopic() {
    var client = (AsyncInferenceClient) startedEndpoint().client();
    standIn.model(name, inv -> Reply.modelError(500, "CUDA out of memory"));
    ObjectRef input = client.stagingFor("job-3");
    backend.put(input.toString(), new byte[1]);

    Accepted accepted = await(client.invokeAsync(new Invocation("job-3", 1, "application/json", new byte[0]), input));

    var published = backend.nextPublished(SageMakerTesting.DEADLINE).orElseThrow();
    assertThat(published.topicArn()).isEqualTo(ERROR_TOPIC);
    AsyncResult result = results.parse(published.message()).orElseThrow();
    assertThat(result.inferenceId()).isEqualTo("job-3");
    assertThat(result.succeeded()).isFalse();
    assertThat(result.failureReason()).contains("Received server error (500) from model");
    assertThat(new String(backend.object(accepted.failure().toString()).orElseThrow().body(),
        StandardCharsets.UTF_8)).isEqualTo("CUDA out of memory");
  }

  @Test
  void droppedNotificationsLeaveTheOutputToBeFoundInS3() {
    var client = (AsyncInferenceClient) startedEndpoint().client();
    standIn.dropNotifications(true);
    ObjectRef input = client.stagingFor("job-4");
    backend.put(input.toString(), "lamp".getBytes(StandardCharsets.UTF_8));

    Accepted accepted = await(client.invokeAsync(new Invocation("job-4", 1, "application/json", new byte[0]), input));

    eventually(() -> backend.object(accepted.output().toString()), java.util.Optional::isPresent);
    assertThat(backend.nextPublished(Duration.ofMillis(200))).isEmpty();
  }

  @Test
  void invokingAnEndpointThatIsNotThereIsTransient() {
    var client = (AsyncInferenceClient) bind(block()).client();

    InferenceException failure = inferenceFailure(client.invokeAsync(
        new Invocation("job-5", 1, "application/json", new byte[0]), client.stagingFor("job-5")));

    assertThat(failure.kind()).isEqualTo(InferenceException.Kind.TRANSIENT);
    assertThat(failure).hasMessageContaining("not found");
  }

  @Test
  void plainInvokeIsRefusedPermanently() {
    var endpoint = bind(block());

    InferenceException failure = inferenceFailure(endpoint.client().invoke("application/json", new byte[1]));

    assertThat(failure.kind()).isEqualTo(InferenceException.Kind.PERMANENT);
    assertThat(failure).hasMessageContaining("invokeAsync");
  }

  @Test
  void stagingResultWindowAndResultPrefixesFollowTheBlock() {
    var client = (AsyncInferenceClient) bind(block()).client();

    assertThat(client.stagingFor("abc")).isEqualTo(new ObjectRef("staging", "gen3d/abc/request.json"));
    assertThat(client.inputsByReference()).isTrue();
    assertThat(client.resultWithin()).isEqualTo(Duration.ofMinutes(90));
    assertThat(client.resultPrefixes()).containsExactly(new ObjectRef("results", "gen3d/out/"),
        new ObjectRef("results", "gen3d/failed/"));
    assertThat(bind(block().withoutPath("async.failure-path").withValue("async.staging",
        ConfigValueFactory.fromAnyRef("s3://staging")))).satisfies(e -> {
          var c = (AsyncInferenceClient) e.client();
          assertThat(c.stagingFor("abc")).isEqualTo(new ObjectRef("staging", "abc/request.json"));
          assertThat(c.resultPrefixes()).containsExactly(new ObjectRef("results", "gen3d/out/"));
          assertThat(c.inputsByReference()).isTrue();
        });
  }

  @Test
  void theAsyncKindIsCreatedAndDeletedLikeARealTimeEndpoint() {
    var endpoint = startedEndpoint();

    assertThat(endpoint.provider()).isInstanceOf(SageMakerEndpoint.class);
    await(endpoint.provider().stop());
    eventually(() -> await(endpoint.provider().describe()), s -> s.status() == Status.ABSENT);
  }

  @ParameterizedTest(name = "{0} = {1}")
  @CsvSource(delimiter = '|', value = {
      "async.staging|''|async.staging is required",
      "async.staging|bucket/prefix|async.staging 'bucket/prefix' is not an s3://",
      "async.output-path|''|async.output-path is required",
      "async.input|files|async.input 'files' is not one of body, s3-uris",
      "async.invocation-timeout|0s|async.invocation-timeout 0 s is not",
      "async.invocation-timeout|2h|async.invocation-timeout 7200 s is not",
      "async.request-ttl|30s|async.request-ttl 30 s is not",
      "async.request-ttl|7h|async.request-ttl 25200 s is not",
      "async.invocation-timeout|1500ms|async.invocation-timeout 1 s is not a whole number"})
  void refusesAnAsyncBlockSageMakerWouldRefuse(String key, String value, String message) {
    Config block = block().withValue(key, ConfigValueFactory.fromAnyRef(value));

    assertThatThrownBy(() -> new SageMakerAsyncProvider().validate(settings(block)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("endpoint " + name + ": sagemaker-async." + message);
  }

  @Test
  void requiresAnAsyncBlock() {
    assertThatThrownBy(() -> new SageMakerAsyncProvider().validate(settings(block().withoutPath("async"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("endpoint " + name + ": sagemaker-async.async.staging")
        .hasMessageContaining("output-path");
  }

  // ---- Helpers

  private Config block() {
    return standIn.providerConfig(CONFIG).withFallback(com.typesafe.config.ConfigFactory.parseMap(Map.of("async",
        Map.of("staging", "s3://staging/gen3d/", "input", "s3-uris", "invocation-timeout", "30m", "request-ttl", "1h",
            "output-path", "s3://results/gen3d/out", "failure-path", "s3://results/gen3d/failed"))));
  }

  private warmgate.config.EndpointSettings settings(Config block) {
    return SageMakerTesting.settings(name, "sagemaker-async", block, Duration.ofSeconds(5));
  }

  private ManagedEndpoint bind(Config block) {
    return SageMakerAsync.bind(settings(block), clients);
  }

  private ManagedEndpoint startedEndpoint() {
    var endpoint = bind(block());
    await(endpoint.provider().start());
    eventually(() -> await(endpoint.provider().describe()), s -> s.status() == Status.IN_SERVICE);
    return endpoint;
  }
}
