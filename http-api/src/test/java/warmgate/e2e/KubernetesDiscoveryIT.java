package warmgate.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import warmgate.demo.SampleImages;
import warmgate.deploy.Manifests;
import warmgate.deploy.Repo;

// Real processes: Warmgate JVMs set up as k8s/base's pods (the manifests' discovery variables and pod template)
// forming one cluster through Pekko's kubernetes-api discovery, which asks fabric8's Kubernetes API mock (HTTPS, CRUD)
// for the pods; a fresh PostgreSQL database as their journal, one shared bucket folder, the demo model as a real
// child process.
class KubernetesDiscoveryIT {
  private static final Manifests MANIFESTS = Manifests.render(Repo.root().resolve("k8s"));
  /**
   * The pods' variables that decide how a node finds the others, passed with the manifests' values. The test's conf
   * file sets what the pods take from elsewhere (database, bucket, model, tokens) and the ports.
   */
  private static final List<String> DISCOVERY_VARIABLES = List.of("WARMGATE_DISCOVERY", "WARMGATE_DISCOVERY_PORT_NAME",
      "WARMGATE_REQUIRED_CONTACT_POINTS", "WARMGATE_REMOTE_HOST", "WARMGATE_MANAGEMENT_HOST", "WARMGATE_EXIT_JVM");
  /** Every pod's IP: on one machine the nodes differ by port, which their pods' container ports say. */
  private static final String POD_IP = "127.0.0.1";
  private static final int JOBS_BEFORE = 6;
  private static final int JOBS_AT_LOSS = 18;
  private static final Duration CLUSTER_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration JOBS_TIMEOUT = Duration.ofSeconds(90);

  /** Under target/, kept after the run: each node's log, the bucket, the model's log. */
  private Path root;
  private Postgres postgres;
  private KubernetesApi kubernetes;
  private final List<Member> members = new ArrayList<>();

  /** One pod: its name in the API, its node's JVM and the ports its container ports name. */
  record Member(String pod, ChildNode node, int httpPort, int remotePort, int managementPort) {
    Api api() {
      return node.api;
    }

    Management management() {
      return new Management(managementPort);
    }

    String address() {
      return "pekko://warmgate@" + POD_IP + ":" + remotePort;
    }
  }

  @BeforeEach
  void createFolderAndDatabase() throws IOException {
    root = Files.createTempDirectory(Files.createDirectories(Path.of("target",
        "kubernetes-discovery-it")).toAbsolutePath(), "run-");
    postgres = new Postgres();
  }

  @AfterEach
  void stop() throws Exception {
    for (Member m : members) {
      m.node().close();
      // The failsafe report keeps what each node said, for CI where target/ is not kept.
      System.out.println("---- " + m.node().log + "\n" + (Files.exists(m.node().log)
          ? Files.readString(m.node().log, StandardCharsets.UTF_8) : "(missing)"));
    }
    ModelProcesses.killAll(root.resolve("endpoints"));
    if (kubernetes != null) {
      kubernetes.close();
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  @Test
  void podsOfTheDeploymentFormOneClusterThroughTheApiAndFinishALostPodsJobs() throws Exception {
    Deployment deployment = MANIFESTS.deployment();
    int replicas = deployment.getSpec().getReplicas();
    String namespace = deployment.getMetadata().getNamespace();
    Map<String, String> labels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    kubernetes = KubernetesApi.start(root, namespace);

    int modelPort = Ports.free();
    for (int i = 0; i < replicas; i++) {
      members.add(launch(deployment.getMetadata().getName() + "-" + i, Ports.free(), Ports.free(), Ports.free(),
          modelPort));
    }
    ChildNode.awaitAnswering(members.stream().map(Member::node).toList(), CLUSTER_TIMEOUT);
    for (Member m : members) {
      Await.until(CLUSTER_TIMEOUT, "pod " + m.pod() + " to be ready (log: " + m.node().log + ")",
          () -> m.management().ready());
    }
    Await.until(CLUSTER_TIMEOUT, "one cluster of " + replicas + " Up members", () -> members.stream()
        .allMatch(m -> m.management().upMembers().size() == replicas));
    // Nothing else told them of each other: no seed nodes, no contact points. Discovery read the namespace and the
    // token from the service-account files and asked for the pods with the Deployment's labels.
    List<KubernetesApi.Request> listings = kubernetes.takeRequests().stream()
        .filter(r -> r.method().equals("GET") && r.path().startsWith("/api/v1/namespaces/" + namespace + "/pods?"))
        .toList();
    assertThat(listings).as("pod listings in namespace %s", namespace).isNotEmpty().allSatisfy(r -> {
      assertThat(r.authorization()).isEqualTo("Bearer " + KubernetesApi.TOKEN);
      assertThat(labels).as("labels the selector of %s asks for", r.path()).containsAllEntriesOf(selector(r.path()));
    });

    // The cluster works: jobs sent to every pod's edge finish.
    Path bucket = root.resolve("buckets/gen3d");
    List<String> jobIds = new ArrayList<>();
    for (int i = 0; i < JOBS_BEFORE; i++) {
      jobIds.add(submit(bucket, i));
    }
    Await.until(JOBS_TIMEOUT, "the first " + JOBS_BEFORE + " jobs to succeed (logs: " + root + ")", () -> jobIds
        .stream().allMatch(id -> "SUCCEEDED".equals(members.get(0).api().status(id))));

    // With more jobs in flight, a pod goes: gone from the API, its JVM killed. The oldest, which hosts the shard
    // coordinator and every singleton, is the hardest to lose.
    for (int i = JOBS_BEFORE; i < JOBS_BEFORE + JOBS_AT_LOSS; i++) {
      jobIds.add(submit(bucket, i));
    }
    Await.until(JOBS_TIMEOUT, "a job of the second batch to finish (the model is warm, jobs are running)",
        () -> outputs(bucket) > JOBS_BEFORE);
    String oldest = members.get(0).management().oldest();
    Member victim = members.stream().filter(m -> m.address().equals(oldest)).findFirst()
        .orElseThrow(() -> new AssertionError("no pod runs the oldest member " + oldest));
    kubernetes.delete(victim.pod());
    int doneAtLoss = outputs(bucket);
    victim.node().kill9();
    assertThat(victim.node().process.exitValue()).as("ended by SIGKILL (128 + 9)").isEqualTo(137);
    assertThat(doneAtLoss).as("jobs were still in flight when the pod went").isLessThan(jobIds.size());
    List<Member> survivors = members.stream().filter(m -> m != victim).toList();
    assertThat(kubernetes.pods(labels)).as("what discovery now finds").extracting(p -> p.getMetadata().getName())
        .containsExactlyInAnyOrderElementsOf(survivors.stream().map(Member::pod).toList());

    // Nobody submits anything again: the survivors down the lost member and finish its jobs.
    Await.until(JOBS_TIMEOUT, "every job to succeed on the survivors (logs: " + root + ")", () -> jobIds.stream()
        .allMatch(id -> survivors.stream().allMatch(m -> "SUCCEEDED".equals(m.api().status(id)))));
    Await.until(CLUSTER_TIMEOUT, "the survivors to down and remove the lost member", () -> survivors.stream()
        .allMatch(m -> m.management().upMembers().size() == replicas - 1
            && !m.management().upMembers().contains(victim.address())));
    for (int i = 0; i < jobIds.size(); i++) {
      String jobId = jobIds.get(i);
      List<String> types = survivors.get(i % survivors.size()).api().eventTypes(jobId);
      assertThat(types).as("job %s completed exactly once: %s", jobId, types).containsOnlyOnce("JobSucceeded");
      assertThat(types.get(types.size() - 1)).as("nothing ran after it succeeded").isEqualTo("JobSucceeded");
      assertThat(Files.readString(bucket.resolve("k8s/out/shot" + i + ".ply"), StandardCharsets.US_ASCII))
          .startsWith("ply\n");
    }
  }

  /**
   * A pod of the Deployment's template in the API, then its node: the manifests' discovery variables with this pod's
   * IP, and where Kubernetes would have mounted the service-account files, the stand-in's.
   */
  private Member launch(String pod, int httpPort, int remotePort, int managementPort, int modelPort)
      throws IOException {
    kubernetes.create(pod(MANIFESTS.deployment().getSpec().getTemplate(), pod,
        Map.of("http", httpPort, "remoting", remotePort, "management", managementPort)));
    Map<String, String> podEnvironment = MANIFESTS.podEnvironment(POD_IP);
    Map<String, String> environment = new HashMap<>(kubernetes.environment());
    for (String name : DISCOVERY_VARIABLES) {
      assertThat(podEnvironment).as("the pods' environment").containsKey(name);
      environment.put(name, podEnvironment.get(name));
    }
    Path conf = root.resolve(pod + ".conf");
    Files.writeString(conf, ChildNode.clusterNodeHocon(root, pod, httpPort, remotePort, managementPort, postgres,
        modelPort) + kubernetes.discoveryHocon());
    ChildNode node = ChildNode.launch(conf, httpPort, root.resolve(pod + ".log"), ChildNode.TEST_JVM, environment);
    return new Member(pod, node, httpPort, remotePort, managementPort);
  }

  /**
   * The pod the Deployment's template makes, as the API lists it once it runs: the template's labels and containers,
   * each container port at the port this test gave the name, phase Running, {@link #POD_IP}.
   */
  private static Pod pod(PodTemplateSpec template, String name, Map<String, Integer> ports) {
    var spec = new PodSpecBuilder(template.getSpec()).build();
    for (var container : spec.getContainers()) {
      for (ContainerPort port : container.getPorts()) {
        Integer assigned = ports.get(port.getName());
        if (assigned == null) {
          throw new AssertionError("the Deployment's container port " + port.getName() + " is not one this test "
              + "gives a port to: " + ports.keySet());
        }
        port.setContainerPort(assigned);
      }
    }
    return new PodBuilder()
        .withNewMetadata().withName(name).withLabels(template.getMetadata().getLabels()).endMetadata()
        .withSpec(spec)
        .withNewStatus().withPhase("Running").withPodIP(POD_IP).endStatus()
        .build();
  }

  /** The labels a pod listing selects by, from its {@code labelSelector} of equality terms. */
  private static Map<String, String> selector(String path) {
    String query = URI.create("https://api" + path).getQuery();
    assertThat(query).startsWith("labelSelector=");
    Map<String, String> labels = new HashMap<>();
    for (String term : query.substring("labelSelector=".length()).split(",")) {
      String[] kv = term.split("=", 2);
      assertThat(kv).as("an equality term: %s", term).hasSize(2);
      labels.put(kv[0], kv[1]);
    }
    return labels;
  }

  /** Job {@code i}: its inputs uploaded, then submitted to the edge of pod {@code i % pods}. */
  private String submit(Path bucket, int i) throws Exception {
    int size = 24 + i; // different content per job
    TestNode.upload(bucket.resolve("k8s/in/shot" + i + "_image.png"), SampleImages.image(size));
    TestNode.upload(bucket.resolve("k8s/in/shot" + i + "_mask.png"), SampleImages.mask(size));
    Member to = members.get(i % members.size());
    Api.Response accepted = to.api().post("/v1/jobs", """
        {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/k8s/in/shot%1$d_image.png",\
        "mask":"s3://gen3d/k8s/in/shot%1$d_mask.png"},"output":"s3://gen3d/k8s/out/shot%1$d.ply"}"""
        .formatted(i));
    assertThat(accepted.status()).as("job %d on pod %s: %s", i, to.pod(), accepted.body()).isEqualTo(202);
    return accepted.body().path("jobId").asText();
  }

  private static int outputs(Path bucket) {
    Path out = bucket.resolve("k8s/out");
    if (!Files.isDirectory(out)) {
      return 0;
    }
    try (Stream<Path> files = Files.list(out)) {
      return (int) files.filter(f -> f.getFileName().toString().endsWith(".ply")).count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
