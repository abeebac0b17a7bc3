// Real HTTP on loopback: the AWS SDK v2 runtime client against the SageMaker stand-in, at SageMaker's real-time limits.
package warmgate.provider.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;
import static warmgate.provider.sagemaker.SageMakerTesting.await;
import static warmgate.provider.sagemaker.SageMakerTesting.eventually;
import static warmgate.provider.sagemaker.SageMakerTesting.inferenceFailure;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.provider.InferenceException;
import warmgate.provider.Invocation;
import warmgate.provider.ProviderState.Status;
import warmgate.provider.sagemaker.SageMakerStandIn.Model;
import warmgate.provider.sagemaker.SageMakerStandIn.Reply;

class SageMakerRealtimeTest {
  private static final String CONFIG = "realtime-config";

  private static SageMakerStandIn standIn;
  private static SageMakerClients clients;
  private static int counter;

  private String name;
  private ManagedEndpoint endpoint;

  @BeforeAll
  static void startStandIn() {
    standIn = SageMakerStandIn.start(CONFIG).creationDelay(Duration.ofMillis(50));
    clients = new SageMakerClients();
  }

  @AfterAll
  static void stopStandIn() {
    clients.close();
    standIn.close();
  }

  @BeforeEach
  void startedEndpoint() {
    name = "realtime-" + (++counter);
    standIn.model(Model.echo());
    endpoint = SageMakerEndpoint.bind(SageMakerTesting.settings(name, "sagemaker", standIn.providerConfig(CONFIG),
        Duration.ofSeconds(5)), clients);
    await(endpoint.provider().start());
    eventually(() -> await(endpoint.provider().describe()), s -> s.status() == Status.IN_SERVICE);
    standIn.resetCalls();
  }

  @Test
  void aRequestOverSixMegabytesFailsPermanentlyWithoutAnInvocation() {
    byte[] sevenMegabytes = new byte[7 * 1024 * 1024];

    InferenceException failure = inferenceFailure(endpoint.client().invoke(
        new Invocation("job-7mb", 1, "application/json", sevenMegabytes)));

    assertThat(failure.kind()).isEqualTo(InferenceException.Kind.PERMANENT);
    assertThat(failure).hasMessageContaining("6291456").hasMessageContaining(String.valueOf(sevenMegabytes.length))
        .hasMessageContaining("sagemaker-async").hasMessageContaining("1 GB");
    assertThat(standIn.calls("InvokeEndpoint")).isZero();
  }

  @Test
  void aRequestOfExactlySixMegabytesIsSent() {
    byte[] limit = new byte[SageMakerRealtime.MAX_REQUEST_BYTES];

    assertThat(await(endpoint.client().invoke(new Invocation("job-6mb", 1, "application/octet-stream", limit)))
        .body()).hasSize(limit.length);
    assertThat(standIn.calls("InvokeEndpoint")).isEqualTo(1);
  }

  @Test
  void theJobIdArrivesAsInferenceIdAndCustomAttributes() {
    AtomicReference<SageMakerStandIn.Invocation> seen = new AtomicReference<>();
    standIn.model(name, inv -> {
      seen.set(inv);
      return Reply.answer("text/plain", "ok");
    });

    await(endpoint.client().invoke(new Invocation("job-42", 3, "application/json", "{}".getBytes(
        StandardCharsets.UTF_8))));

    assertThat(seen.get().inferenceId()).isEqualTo("job-42");
    assertThat(seen.get().customAttributes()).isEqualTo("warmgate-job-id=job-42;warmgate-attempt=3");
    assertThat(seen.get().inferenceComponent()).isNull();
  }

  @Test
  void customAttributesStayVisibleAsciiWithinTheirLimit() {
    String attributes = SageMakerRealtime.customAttributes("jób;1 " + "x".repeat(2000), 1);

    assertThat(attributes).hasSizeLessThanOrEqualTo(1024).matches("[\\x21-\\x7e]+").startsWith(
        "warmgate-job-id=j_b_1_x");
  }

  @Test
  void sageMakersInvocationTimeoutIsRetriedAtMostOnce() {
    standIn.model(name, inv -> Reply.invocationTimedOut());

    InferenceException failure = inferenceFailure(endpoint.client().invoke(
        new Invocation("job-slow", 1, "application/json", new byte[2])));

    assertThat(failure.kind()).isEqualTo(InferenceException.Kind.TRANSIENT);
    assertThat(failure.attemptsAtMost()).isEqualTo(2);
    assertThat(failure).hasMessageContaining("60 s").hasMessageContaining("sagemaker-async");
  }

  @Test
  void anAnswerCutOffMidwayIsRetriedAtMostOnceAndNamesTheResponseLimit() {
    standIn.model(name, inv -> Reply.cutOff(7 * 1024 * 1024, 64 * 1024));

    InferenceException failure = inferenceFailure(endpoint.client().invoke(
        new Invocation("job-large-answer", 1, "application/json", new byte[2])));

    assertThat(failure.kind()).isEqualTo(InferenceException.Kind.TRANSIENT);
    assertThat(failure.attemptsAtMost()).isEqualTo(2);
    assertThat(failure).hasMessageContaining("6 MB").hasMessageContaining("sagemaker-async");
  }

  @Test
  void anUnreachableEndpointIsAnOrdinaryTransientFailure() {
    var unreachable = SageMakerEndpoint.bind(SageMakerTesting.settings(name, "sagemaker", standIn.providerConfig(CONFIG)
        .withValue("endpoint-override", com.typesafe.config.ConfigValueFactory.fromAnyRef("http://127.0.0.1:1")),
        Duration.ofSeconds(5)), clients);

    InferenceException failure = inferenceFailure(unreachable.client().invoke(
        new Invocation("job-nowhere", 1, "application/json", new byte[2])));

    assertThat(failure.kind()).isEqualTo(InferenceException.Kind.TRANSIENT);
    assertThat(failure.attemptsAtMost()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
      "IncompleteSignature", "MissingAuthenticationToken", "InvalidClientTokenId"})
  void refusedCredentialsArePermanent(String errorCode) {
    standIn.model(name, inv -> Reply.serviceError(403, errorCode));

    InferenceException failure = inferenceFailure(endpoint.client().invoke(
        new Invocation("job-denied", 1, "application/json", new byte[2])));

    assertThat(failure.kind()).isEqualTo(InferenceException.Kind.PERMANENT);
    assertThat(failure).hasMessageContaining(errorCode).hasMessageContaining("credentials");
  }

  @Test
  void expiredCredentialsStayTransient() {
    standIn.model(name, inv -> Reply.serviceError(403, "ExpiredTokenException"));

    assertThat(inferenceFailure(endpoint.client().invoke(new Invocation("job-expired", 1, "application/json",
        new byte[2]))).kind()).isEqualTo(InferenceException.Kind.TRANSIENT);
  }
}
