// Real HTTP on loopback: the AWS SDK v2 clients against a local SageMaker stand-in.
package warmgate.provider.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static warmgate.provider.sagemaker.SageMakerTesting.await;
import static warmgate.provider.sagemaker.SageMakerTesting.eventually;
import static warmgate.provider.sagemaker.SageMakerTesting.inferenceFailure;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.provider.InferenceClient.InferenceResponse;
import warmgate.provider.InferenceException;
import warmgate.provider.ProviderState;
import warmgate.provider.ProviderState.Status;
import warmgate.provider.sagemaker.SageMakerStandIn.Model;
import warmgate.provider.sagemaker.SageMakerStandIn.Reply;

class SageMakerEndpointTest {
  private static final String CONFIG = "gen3d-config";

  private static SageMakerStandIn standIn;
  private static SageMakerClients clients;
  private static int counter;

  private String name;

  @BeforeAll
  static void startStandIn() {
    standIn = SageMakerStandIn.start(CONFIG);
    clients = new SageMakerClients();
  }

  @AfterAll
  static void stopStandIn() {
    clients.close();
    standIn.close();
  }

  @BeforeEach
  void freshEndpoint() {
    // A new name per test keeps the tests independent without restarting the stand-in.
    name = "gen3d-" + (++counter);
    standIn.resumeTransitions();
    standIn.creationDelay(Duration.ofMillis(300)).deletionDelay(Duration.ofMillis(300));
    standIn.model(Model.echo());
    standIn.resetCalls();
  }

  // ---- Lifecycle

  @Test
  void describesAnEndpointThatWasNeverCreatedAsAbsent() {
    assertThat(await(bind().provider().describe()).status()).isEqualTo(Status.ABSENT);
  }

  @Test
  void startCreatesTheEndpointWhichComesIntoService() {
    var provider = bind().provider();
    standIn.pauseTransitions();

    await(provider.start());

    assertThat(await(provider.describe())).isEqualTo(new ProviderState(Status.CREATING, "Creating"));
    standIn.resumeTransitions();
    assertThat(eventually(() -> await(provider.describe()),
        s -> s.status() == Status.IN_SERVICE).detail()).isEqualTo("InService");
  }

  @Test
  void startIsIdempotentWhileCreatingAndInService() {
    var provider = bind().provider();
    standIn.pauseTransitions();
    await(provider.start());

    await(provider.start());
    assertThat(await(provider.describe()).status()).isEqualTo(Status.CREATING);

    standIn.resumeTransitions();
    eventually(() -> await(provider.describe()), s -> s.status() == Status.IN_SERVICE);
    await(provider.start());
    assertThat(await(provider.describe()).status()).isEqualTo(Status.IN_SERVICE);
    assertThat(standIn.calls("CreateEndpoint")).isEqualTo(3);
  }

  @Test
  void startFailsClearlyWhenTheEndpointConfigIsUnknown() {
    var endpoint = bind(standIn.providerConfig("no-such-config"), Duration.ofSeconds(5));

    assertThatThrownBy(() -> await(endpoint.provider().start()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("CreateEndpoint of endpoint " + name)
        .hasMessageContaining("ValidationException")
        .hasMessageContaining("Could not find endpoint configuration");
    assertThat(standIn.status(name)).isEmpty();
  }

  @Test
  void invokeReturnsTheModelsAnswer() {
    var endpoint = startedEndpoint();
    standIn.model(name, inv -> Reply.answer("application/json", "{\"mesh\":\"" + inv.contentType() + " "
        + inv.bodyText() + "\"}"));

    InferenceResponse response = await(endpoint.client().invoke("text/plain",
        "a chair".getBytes(StandardCharsets.UTF_8)));

    assertThat(response.contentType()).isEqualTo("application/json");
    assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo("{\"mesh\":\"text/plain a chair\"}");
  }

  @Test
  void invokePassesBinaryBodiesThroughUnchanged() {
    var endpoint = startedEndpoint();
    byte[] image = new byte[64 * 1024];
    for (int i = 0; i < image.length; i++) {
      image[i] = (byte) (i * 31);
    }

    InferenceResponse response = await(endpoint.client().invoke("application/x-image", image));

    assertThat(response.body()).isEqualTo(image);
    assertThat(response.contentType()).isEqualTo("application/x-image");
  }

  @Test
  void stopDeletesTheEndpoint() {
    var provider = startedEndpoint().provider();
    standIn.pauseTransitions();

    await(provider.stop());

    assertThat(await(provider.describe())).isEqualTo(new ProviderState(Status.DELETING, "Deleting"));
    standIn.resumeTransitions();
    eventually(() -> await(provider.describe()), s -> s.status() == Status.ABSENT);
  }

  @Test
  void stopIsIdempotentWhileDeletingAndWhenGone() {
    var provider = startedEndpoint().provider();
    standIn.pauseTransitions();
    await(provider.stop());

    await(provider.stop()); // SageMaker refuses to delete an endpoint in progress; describe shows it is going

    standIn.resumeTransitions();
    eventually(() -> await(provider.describe()), s -> s.status() == Status.ABSENT);
    await(provider.stop());
    assertThat(standIn.calls("DeleteEndpoint")).isEqualTo(3);
  }

  @Test
  void stopWhileCreatingFailsWithSageMakersReason() {
    var provider = bind().provider();
    standIn.pauseTransitions();
    await(provider.start());

    assertThatThrownBy(() -> await(provider.stop()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("DeleteEndpoint of endpoint " + name)
        .hasMessageContaining("in-progress");
  }

  @Test
  void usesTheConfiguredSageMakerEndpointName() {
    var endpoint = bind(standIn.providerConfig(CONFIG).withValue("endpoint-name", ConfigValueFactory.fromAnyRef("sm-"
        + name)), Duration.ofSeconds(5));

    await(endpoint.provider().start());

    assertThat(standIn.status("sm-" + name)).isPresent();
    assertThat(standIn.status(name)).isEmpty();
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "Creating, CREATING",
      "Updating, UPDATING",
      "SystemUpdating, UPDATING",
      "RollingBack, UPDATING",
      "InService, IN_SERVICE",
      "Deleting, DELETING",
      "Failed, FAILED",
      "UpdateRollbackFailed, FAILED",
      "OutOfService, FAILED"
  })
  void mapsEverySageMakerStatus(String sageMakerStatus, Status expected) {
    var provider = bind().provider();
    standIn.pauseTransitions();
    standIn.forceStatus(name, sageMakerStatus, null);
    assertThat(await(provider.describe())).isEqualTo(new ProviderState(expected, sageMakerStatus));

    standIn.forceStatus(name, sageMakerStatus, "the image could not be pulled");
    assertThat(await(provider.describe()))
        .isEqualTo(new ProviderState(expected, sageMakerStatus + ": the image could not be pulled"));
  }

  // ---- Invocation errors

  @Test
  void modelErrorWith4xxIsPermanent() {
    var endpoint = startedEndpoint();
    standIn.model(name, inv -> Reply.modelError(400, "prompt must not be empty"));

    assertThat(invokeFailure(endpoint))
        .satisfies(e -> assertThat(e.kind()).isEqualTo(InferenceException.Kind.PERMANENT))
        .hasMessageContaining(name)
        .hasMessageContaining("400")
        .hasMessageContaining("prompt must not be empty");
    assertThat(standIn.calls("InvokeEndpoint")).isEqualTo(1);
  }

  @ParameterizedTest(name = "original {0}")
  @CsvSource({"500", "503", "408", "429"})
  void modelErrorWith5xxOrTimeoutOrThrottlingIsTransient(int originalStatus) {
    var endpoint = startedEndpoint();
    standIn.model(name, inv -> Reply.modelError(originalStatus, "CUDA out of memory"));

    assertThat(invokeFailure(endpoint))
        .satisfies(e -> assertThat(e.kind()).isEqualTo(InferenceException.Kind.TRANSIENT))
        .hasMessageContaining(name)
        .hasMessageContaining("CUDA out of memory");
  }

  @Test
  void throttlingIsTransientAndTheSdkRetriesItAtMostOnce() {
    var endpoint = startedEndpoint();
    standIn.model(name, inv -> Reply.throttled());

    assertThat(invokeFailure(endpoint))
        .satisfies(e -> assertThat(e.kind()).isEqualTo(InferenceException.Kind.TRANSIENT))
        .hasMessageContaining(name)
        .hasMessageContaining("ThrottlingException")
        .hasMessageContaining("429");
    // Our one SDK retry and no more: Warmgate's own backoff takes over from here.
    assertThat(standIn.calls("InvokeEndpoint")).isEqualTo(2);
  }

  @ParameterizedTest(name = "{0} {1}: {2} attempt(s)")
  @CsvSource({
      "500, InternalFailure, 2",
      "503, ServiceUnavailable, 2",
      "530, InternalDependencyException, 1", // not a status the SDK retries
      "429, ModelNotReadyException, 2",
      "502, BadGateway, 2"
  })
  void serviceErrorsAreTransientAndRetriedAtMostOnceByTheSdk(int status, String errorCode, int attempts) {
    var endpoint = startedEndpoint();
    standIn.model(name, inv -> Reply.serviceError(status, errorCode));

    assertThat(invokeFailure(endpoint))
        .satisfies(e -> assertThat(e.kind()).isEqualTo(InferenceException.Kind.TRANSIENT))
        .hasMessageContaining(name)
        .hasMessageContaining(errorCode);
    assertThat(standIn.calls("InvokeEndpoint")).isEqualTo(attempts);
  }

  @Test
  void endpointNotFoundIsTransient() {
    var endpoint = bind();

    assertThat(invokeFailure(endpoint))
        .satisfies(e -> assertThat(e.kind()).isEqualTo(InferenceException.Kind.TRANSIENT))
        .hasMessageContaining("ValidationError")
        .hasMessageContaining("Endpoint " + name + " of account");
  }

  @Test
  void otherValidationErrorsArePermanent() {
    var endpoint = startedEndpoint();
    standIn.model(name, inv -> Reply.validationError("Request payload size exceeds the 25 MB limit."));

    assertThat(invokeFailure(endpoint))
        .satisfies(e -> assertThat(e.kind()).isEqualTo(InferenceException.Kind.PERMANENT))
        .hasMessageContaining(name)
        .hasMessageContaining("payload size exceeds");
  }

  @Test
  void aModelSlowerThanTheInvokeTimeoutIsTransient() {
    var endpoint = startedEndpoint(Duration.ofMillis(400));
    standIn.model(name, inv -> Reply.slow(Duration.ofSeconds(30), Reply.answer("text/plain", "too late")));

    long started = System.nanoTime();
    InferenceException failure = invokeFailure(endpoint);

    assertThat(failure.kind()).isEqualTo(InferenceException.Kind.TRANSIENT);
    assertThat(failure).hasMessageContaining("invoke-timeout").hasMessageContaining(name);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
  }

  // ---- Signing and configuration

  @Test
  void standInRefusesUnsignedRequests() throws Exception {
    var request = HttpRequest.newBuilder(standIn.uri().resolve("/"))
        .header("X-Amz-Target", "SageMaker.DescribeEndpoint")
        .header("Content-Type", "application/x-amz-json-1.1")
        .POST(HttpRequest.BodyPublishers.ofString("{\"EndpointName\":\"" + name + "\"}"))
        .build();

    HttpResponse<String> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(403);
    assertThat(response.body()).contains("MissingAuthenticationTokenException");
  }

  @Test
  void sdkSignsForSageMakerInTheConfiguredRegion() {
    await(bind().provider().describe());

    assertThat(standIn.lastAuthorization()).hasValueSatisfying(auth -> assertThat(auth)
        .startsWith("AWS4-HMAC-SHA256 Credential=" + SageMakerStandIn.ACCESS_KEY_ID + "/")
        .contains("/" + SageMakerStandIn.REGION + "/sagemaker/aws4_request"));
  }

  @Test
  void bindRequiresAnEndpointConfigName() {
    Config block = standIn.providerConfig(CONFIG).withoutPath("endpoint-config-name");

    assertThatThrownBy(() -> bind(block, Duration.ofSeconds(5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("endpoint " + name)
        .hasMessageContaining("endpoint-config-name");
  }

  @Test
  void bindRefusesHalfOfAKeyPair() {
    Config block = standIn.providerConfig(CONFIG).withValue("secret-access-key", ConfigValueFactory.fromAnyRef(""));

    assertThatThrownBy(() -> bind(block, Duration.ofSeconds(5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("access-key-id and secret-access-key");
  }

  @Test
  void endpointsOfOneConnectionShareTheirClients() {
    var first = (SageMakerEndpoint) bind().provider();
    var second = (SageMakerEndpoint) bind(standIn.providerConfig(CONFIG), Duration.ofSeconds(1)).provider();
    var connection = new SageMakerClients.Connection(
        SageMakerStandIn.REGION, standIn.uri(), SageMakerStandIn.ACCESS_KEY_ID, SageMakerStandIn.SECRET_ACCESS_KEY);

    assertThat(first).isNotSameAs(second);
    assertThat(clients.controlPlane(connection)).isSameAs(clients.controlPlane(connection));
    assertThat(clients.runtime(connection)).isSameAs(clients.runtime(connection));
    assertThat(connection.toString()).doesNotContain(SageMakerStandIn.SECRET_ACCESS_KEY);
  }

  // ---- Helpers

  private ManagedEndpoint bind() {
    return bind(standIn.providerConfig(CONFIG), Duration.ofSeconds(5));
  }

  private ManagedEndpoint bind(Config providerConfig, Duration invokeTimeout) {
    var settings = new EndpointSettings(
        name, "sagemaker", 2, 10, Duration.ofMinutes(5), Duration.ofMinutes(10), 3, Duration.ZERO,
            Duration.ofSeconds(30),
        Duration.ofMillis(200), Duration.ofSeconds(30), invokeTimeout, providerConfig);
    return SageMakerEndpoint.bind(settings, clients);
  }

  private ManagedEndpoint startedEndpoint() {
    return startedEndpoint(Duration.ofSeconds(5));
  }

  private ManagedEndpoint startedEndpoint(Duration invokeTimeout) {
    var endpoint = bind(standIn.providerConfig(CONFIG), invokeTimeout);
    await(endpoint.provider().start());
    eventually(() -> await(endpoint.provider().describe()), s -> s.status() == Status.IN_SERVICE);
    standIn.resetCalls();
    return endpoint;
  }

  private static InferenceException invokeFailure(ManagedEndpoint endpoint) {
    return inferenceFailure(endpoint.client().invoke("application/json", "{}".getBytes(StandardCharsets.UTF_8)));
  }
}
