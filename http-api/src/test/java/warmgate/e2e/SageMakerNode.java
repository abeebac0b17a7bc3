package warmgate.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import warmgate.auth.TestTokens;
import warmgate.ingest.sns.SnsRoutes;
import warmgate.node.Main;
import warmgate.persistence.DatabaseSettings;
import warmgate.provider.sagemaker.SageMakerStandIn;

/**
 * A node in this JVM built from its configuration ({@code Main.Deps.fromConfig}: the S3 blob store, the SageMaker
 * providers) with a given SNS route, and what the SageMaker tests ask of a node: submit a job, read its events and
 * its endpoint.
 */
final class SageMakerNode implements AutoCloseable {
  static final Duration JOB_TIMEOUT = Duration.ofSeconds(60);
  /** The SageMaker operations Warmgate calls, in the order a job meets them. */
  static final List<String> OPERATIONS = List.of("DescribeEndpoint", "CreateEndpoint", "DescribeInferenceComponent",
      "UpdateInferenceComponentRuntimeConfig", "InvokeEndpoint", "InvokeEndpointAsync", "DeleteEndpoint");

  final ActorSystem<Void> system;
  final String base;
  final Api api;

  private SageMakerNode(ActorSystem<Void> system, Main.Node node) {
    this.system = system;
    int port = node.binding().toCompletableFuture().join().localAddress().getPort();
    this.base = "http://127.0.0.1:" + port;
    this.api = new Api(port, TestTokens.ADMIN);
  }

  static SageMakerNode start(Map<String, Object> settings, SnsRoutes sns) {
    Config config = DatabaseSettings.applyTo(ConfigFactory.load(
        ConfigFactory.parseMap(settings).withFallback(ConfigFactory.parseResourcesAnySyntax("application"))));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "warmgate", config);
    try {
      return new SageMakerNode(system, Main.init(system, Main.Deps.fromConfig(system), sns));
    } catch (RuntimeException e) {
      system.terminate();
      throw e;
    }
  }

  /** POST /v1/jobs with one input, {@code image}; the job's id. */
  static String submit(Api api, String endpoint, String imageUri, String outputUri) {
    Api.Response r = api.post("/v1/jobs", """
        {"endpoint": "%s", "inputs": {"image": "%s"}, "output": "%s"}""".formatted(endpoint, imageUri, outputUri));
    if (r.status() != 202) {
      throw new AssertionError("POST /v1/jobs answered " + r.status() + ": " + r.body());
    }
    return r.body().path("jobId").asText();
  }

  String submit(String endpoint, String imageUri, String outputUri) {
    return submit(api, endpoint, imageUri, outputUri);
  }

  /** The job's view once its status is one of {@code statuses}. */
  static JsonNode awaitStatus(Api api, String jobId, Set<String> statuses) {
    return Await.until(JOB_TIMEOUT, "job " + jobId + " to be " + statuses, () -> {
      Api.Response r = api.get("/v1/jobs/" + jobId);
      return r.status() == 200 && statuses.contains(r.body().path("status").asText()) ? r.body() : null;
    });
  }

  JsonNode awaitStatus(String jobId, String... statuses) {
    return awaitStatus(api, jobId, Set.of(statuses));
  }

  /** The job's events, in journal order. */
  static List<JsonNode> events(Api api, String jobId) {
    List<JsonNode> events = new ArrayList<>();
    api.get("/v1/jobs/" + jobId + "/events").body().path("events").forEach(events::add);
    return events;
  }

  static long count(List<JsonNode> events, String type) {
    return events.stream().filter(e -> e.path("type").asText().equals(type)).count();
  }

  /** When the first event of {@code type} happened, as the job journaled it. */
  static Instant at(List<JsonNode> events, String type) {
    return events.stream().filter(e -> e.path("type").asText().equals(type)).findFirst()
        .map(e -> Instant.parse(e.path("data").path("at").asText()))
        .orElseThrow(() -> new AssertionError("no " + type + " in " + events));
  }

  JsonNode endpoint(String name) {
    return api.get("/v1/endpoints/" + name).body();
  }

  /** Until the endpoint is COLD again (stopped when idle, or never started). */
  void awaitCold(String name) {
    Await.until(JOB_TIMEOUT, "endpoint " + name + " to be COLD",
        () -> endpoint(name).path("state").asText().equals("COLD"));
  }

  /** The stand-in's calls by operation, those made at least once. */
  static Map<String, Integer> calls(SageMakerStandIn standIn) {
    Map<String, Integer> calls = new LinkedHashMap<>();
    for (String operation : OPERATIONS) {
      if (standIn.calls(operation) > 0) {
        calls.put(operation, standIn.calls(operation));
      }
    }
    return calls;
  }

  /** The line the issue asks for, per mode: SageMaker calls for one job, and its cold start to result. */
  static void measure(String mode, Map<String, Integer> calls, List<JsonNode> events) {
    long millis = Duration.between(at(events, "JobSubmitted"), at(events, "JobSucceeded")).toMillis();
    System.out.println("SAGEMAKER-MEASURE mode=" + mode + " calls=" + calls + " cold-start-to-result-ms=" + millis);
  }

  @Override
  public void close() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).join();
  }
}
