// Real HTTP on loopback: the AWS SDK v2 clients against the SageMaker stand-in's inference components.
package warmgate.provider.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static warmgate.provider.sagemaker.SageMakerTesting.await;
import static warmgate.provider.sagemaker.SageMakerTesting.eventually;
import static warmgate.provider.sagemaker.SageMakerTesting.inferenceFailure;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.provider.InferenceException;
import warmgate.provider.Invocation;
import warmgate.provider.ProviderState;
import warmgate.provider.ProviderState.Status;
import warmgate.provider.sagemaker.SageMakerStandIn.Reply;

class SageMakerComponentTest {
  private static final String HOST = "gen3d-host";

  private static SageMakerStandIn standIn;
  private static SageMakerClients clients;
  private static int counter;

  private String name;
  private String component;

  @BeforeAll
  static void startStandIn() {
    standIn = SageMakerStandIn.start();
    clients = new SageMakerClients();
  }

  @AfterAll
  static void stopStandIn() {
    clients.close();
    standIn.close();
  }

  @BeforeEach
  void freshComponent() {
    name = "gen3d-ic-" + (++counter);
    component = "gen3d-component-" + counter;
    standIn.resumeTransitions();
    standIn.copyProvisioningDelay(Duration.ofMillis(300)).inferenceComponent(HOST, component);
    standIn.model(component, inv -> Reply.answer("text/plain", "mesh of " + inv.bodyText()));
    standIn.resetCalls();
  }

  @Test
  void aComponentWithoutCopiesIsAbsent() {
    assertThat(await(bind(block(2)).provider().describe()))
        .isEqualTo(new ProviderState(Status.ABSENT, "InService (copies: 0 running, 0 wanted)"));
  }

  @Test
  void startScalesToTheConfiguredCopiesWhichComeIntoService() {
    var provider = bind(block(2)).provider();
    standIn.pauseTransitions();

    await(provider.start());

    assertThat(await(provider.describe()).status()).isEqualTo(Status.CREATING);
    standIn.resumeTransitions();
    ProviderState serving = eventually(() -> await(provider.describe()), s -> s.status() == Status.IN_SERVICE);
    assertThat(serving.billedUnits()).isEqualTo(2);
    assertThat(serving.detail()).isEqualTo("InService (copies: 2 running, 2 wanted)");
    assertThat(standIn.calls("UpdateInferenceComponentRuntimeConfig")).isEqualTo(1);
  }

  @Test
  void startIsIdempotentWhileTheCopiesAreProvisioned() {
    var provider = bind(block(1)).provider();
    standIn.pauseTransitions();
    await(provider.start());

    await(provider.start()); // SageMaker refuses to update a component in progress; describe shows it is ours

    assertThat(standIn.calls("UpdateInferenceComponentRuntimeConfig")).isEqualTo(2);
    standIn.resumeTransitions();
    eventually(() -> await(provider.describe()), s -> s.status() == Status.IN_SERVICE);
    await(provider.start());
    assertThat(standIn.componentCopies(component)).contains(1);
  }

  @Test
  void stopScalesToZeroAndNothingIsBilledOnceTheCopiesAreGone() {
    var provider = servingComponent().provider();
    standIn.pauseTransitions();

    await(provider.stop());

    assertThat(await(provider.describe()).status()).isEqualTo(Status.DELETING);
    standIn.resumeTransitions();
    eventually(() -> await(provider.describe()), s -> s.status() == Status.ABSENT);
    await(provider.stop());
    assertThat(standIn.componentCopies(component)).contains(0);
  }

  @Test
  void invocationsWhileNoCopyServesAreNotReadyThenServed() {
    var endpoint = bind(block(1));
    standIn.pauseTransitions();
    await(endpoint.provider().start());

    InferenceException failure = inferenceFailure(endpoint.client().invoke(invocation("job-1")));

    assertThat(failure.kind()).isEqualTo(InferenceException.Kind.NOT_READY);
    assertThat(failure).hasMessageContaining("no capacity").hasMessageContaining(component);
    standIn.resumeTransitions();
    eventually(() -> await(endpoint.provider().describe()), s -> s.status() == Status.IN_SERVICE);
    assertThat(new String(await(endpoint.client().invoke(invocation("job-1"))).body(), StandardCharsets.UTF_8))
        .isEqualTo("mesh of chair");
  }

  @Test
  void invocationsNameTheComponent() {
    var endpoint = servingComponent();
    AtomicReference<SageMakerStandIn.Invocation> seen = new AtomicReference<>();
    standIn.model(component, inv -> {
      seen.set(inv);
      return Reply.answer("text/plain", "ok");
    });

    await(endpoint.client().invoke(invocation("job-2")));

    assertThat(seen.get().inferenceComponent()).isEqualTo(component);
    assertThat(seen.get().endpointName()).isEqualTo(HOST);
    assertThat(seen.get().inferenceId()).isEqualTo("job-2");
  }

  @ParameterizedTest(name = "{0} {1}/{2} -> {3}")
  @CsvSource({
      "InService, 0, 0, ABSENT, 1",
      "Updating, 0, 0, ABSENT, 1",
      "Updating, 0, 1, CREATING, 1",
      "Creating, 0, 1, CREATING, 1",
      "InService, 0, 2, CREATING, 1",
      "InService, 3, 3, IN_SERVICE, 3",
      "Updating, 1, 3, UPDATING, 1",
      "Updating, 2, 0, DELETING, 2",
      "InService, 1, 0, DELETING, 1",
      "Deleting, 1, 1, DELETING, 1",
      "Failed, 0, 1, FAILED, 1"})
  void mapsStatusAndCopiesToWhatTheLifecycleActsOn(String status, int current, int desired, Status expected,
      int billed) {
    standIn.forceComponent(component, status, current, desired, status.equals("Failed") ? "image not found" : null);

    ProviderState state = await(bind(block(1)).provider().describe());

    assertThat(state.status()).isEqualTo(expected);
    assertThat(state.billedUnits()).isEqualTo(billed);
    assertThat(state.detail()).startsWith(status + " (copies: " + current + " running, " + desired + " wanted)");
    if (status.equals("Failed")) {
      assertThat(state.detail()).endsWith(": image not found");
    }
  }

  @Test
  void aMissingComponentIsFailedWithItsName() {
    var provider = bind(block(1).withValue("inference-component-name", ConfigValueFactory.fromAnyRef("nowhere")))
        .provider();

    ProviderState state = await(provider.describe());

    assertThat(state.status()).isEqualTo(Status.FAILED);
    assertThat(state.detail()).contains("nowhere").contains("does not exist");
    assertThatThrownBy(() -> await(provider.start())).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("UpdateInferenceComponentRuntimeConfig").hasMessageContaining("nowhere");
  }

  @ParameterizedTest(name = "without {0}")
  @CsvSource({"endpoint-name", "inference-component-name"})
  void requiresTheHostAndTheComponent(String key) {
    assertThatThrownBy(() -> new SageMakerComponentProvider().validate(settings(block(1).withoutPath(key))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("endpoint " + name + ": sagemaker-component." + key + " is required");
  }

  @Test
  void refusesFewerThanOneCopy() {
    assertThatThrownBy(() -> new SageMakerComponentProvider().validate(settings(block(0))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sagemaker-component.copies must be at least 1");
  }

  // ---- Helpers

  private Config block(int copies) {
    return standIn.providerConfig("unused").withoutPath("endpoint-config-name").withFallback(ConfigFactory.parseString(
        "endpoint-name = " + HOST + "\ninference-component-name = " + component + "\ncopies = " + copies));
  }

  private warmgate.config.EndpointSettings settings(Config block) {
    return SageMakerTesting.settings(name, "sagemaker-component", block, Duration.ofSeconds(5));
  }

  private ManagedEndpoint bind(Config block) {
    return SageMakerComponentEndpoint.bind(settings(block), clients);
  }

  private ManagedEndpoint servingComponent() {
    var endpoint = bind(block(1));
    await(endpoint.provider().start());
    eventually(() -> await(endpoint.provider().describe()), s -> s.status() == Status.IN_SERVICE);
    return endpoint;
  }

  private static Invocation invocation(String jobId) {
    return new Invocation(jobId, 1, "text/plain", "chair".getBytes(StandardCharsets.UTF_8));
  }
}
