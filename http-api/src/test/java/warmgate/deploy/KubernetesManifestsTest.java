package warmgate.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.sagemaker.SageMakerAsyncClient;
import software.amazon.awssdk.services.sagemakerruntime.SageMakerRuntimeAsyncClient;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import warmgate.cluster.ClusterFormation;
import warmgate.config.EndpointSettings;
import warmgate.ingest.RouteTable;
import warmgate.persistence.DatabaseSettings;

// Files only: k8s/ rendered by a small kustomize in Java, every object read strictly into the Kubernetes model
// (fabric8), the pods' configuration computed from the ConfigMaps, and k8s/iam-policy.json against the AWS calls
// in the sources. No cluster, no kubectl.
class KubernetesManifestsTest {
  private static final Path ROOT = Repo.root();
  private static final Manifests BASE = Manifests.render(ROOT.resolve("k8s"));
  private static final Manifests DEV = Manifests.render(ROOT.resolve("k8s/dev"));
  private static final String SECRET = "warmgate-secrets";

  private static Set<String> kinds(Manifests manifests) {
    return manifests.objects().stream().map(o -> o.getKind() + "/"
        + o.getMetadata().getName()).collect(Collectors.toCollection(TreeSet::new));
  }

  @Test
  void baseRendersTheClusterDeploymentAndNoDatabase() {
    assertThat(kinds(BASE)).containsExactlyInAnyOrder("ServiceAccount/warmgate", "Role/warmgate-pod-reader",
        "RoleBinding/warmgate-pod-reader", "ConfigMap/warmgate-env", "ConfigMap/warmgate-conf", "Deployment/warmgate",
        "Service/warmgate", "PodDisruptionBudget/warmgate");
    assertThat(BASE.objects()).allSatisfy(o ->
        assertThat(o.getMetadata().getNamespace()).as(o.getKind()).isEqualTo("warmgate"));
    assertThat(BASE.objects()).noneMatch(o ->
        o.getKind().equals("Secret")).as("the Secret is created by hand, never committed");
  }

  @Test
  void devOverlayAddsPostgresAndPointsTheNodesAtIt() {
    assertThat(kinds(DEV)).containsAll(kinds(BASE)).contains("StatefulSet/warmgate-postgres",
        "Service/warmgate-postgres");
    assertThat(DEV.objects()).allSatisfy(o ->
        assertThat(o.getMetadata().getNamespace()).as(o.getKind()).isEqualTo("warmgate"));

    DatabaseSettings database = DatabaseSettings.fromConfig(DEV.podConfig().getConfig("warmgate"));
    assertThat(database.kind()).isEqualTo(DatabaseSettings.Kind.POSTGRES);
    assertThat(database.url()).isEqualTo("jdbc:postgresql://warmgate-postgres:5432/warmgate");
    Service service = DEV.one(Service.class, "warmgate-postgres");
    StatefulSet postgres = DEV.one(StatefulSet.class, "warmgate-postgres");
    assertThat(service.getSpec().getPorts()).extracting(ServicePort::getPort).containsExactly(5432);
    assertThat(postgres.getSpec().getServiceName()).isEqualTo(service.getMetadata().getName());
    assertThat(postgres.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(service.getSpec()
        .getSelector());
    Map<String, EnvVar> pgEnv = postgres.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .collect(Collectors.toMap(EnvVar::getName, Function.identity()));
    assertThat(pgEnv.get("POSTGRES_DB").getValue()).isEqualTo("warmgate");
    assertThat(pgEnv.get("POSTGRES_USER").getValue()).isEqualTo(database.user());
    assertThat(DEV.podEnvironment().get("WARMGATE_DB_PASSWORD")).as("the nodes and the database read one password")
        .isEqualTo(pgEnv.get("POSTGRES_PASSWORD").getValueFrom().getSecretKeyRef().getName() + "/"
            + pgEnv.get("POSTGRES_PASSWORD").getValueFrom().getSecretKeyRef().getKey());
  }

  @Test
  void threeReplicasRollOutOneAtATimeWithoutLosingOne() {
    Deployment deployment = BASE.deployment();

    assertThat(deployment.getSpec().getReplicas()).isEqualTo(3);
    assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
    assertThat(deployment.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable()).isEqualTo(new IntOrString(0));
    assertThat(deployment.getSpec().getStrategy().getRollingUpdate().getMaxSurge()).isEqualTo(new IntOrString(1));
    assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(deployment.getSpec()
        .getSelector().getMatchLabels());
  }

  @Test
  void probesAskPekkoManagementOnThePortTheConfigurationUses() {
    Config config = BASE.podConfig();
    Container container = BASE.container();
    int managementPort = config.getInt("pekko.management.http.port");
    ContainerPort named = containerPort(container, "management");

    assertThat(named.getContainerPort()).isEqualTo(managementPort);
    assertThat(config.getString("pekko.management.http.bind-hostname")).as("the kubelet probes the pod IP")
        .isIn("0.0.0.0", Manifests.POD_IP);
    assertThat(config.getString("pekko.management.http.hostname")).isEqualTo(Manifests.POD_IP);
    String ready = "/" + config.getString("pekko.management.health-checks.readiness-path");
    String alive = "/" + config.getString("pekko.management.health-checks.liveness-path");
    assertThat(ready).isEqualTo("/ready");
    assertThat(alive).isEqualTo("/alive");
    assertProbe(container.getReadinessProbe(), ready, container, managementPort);
    assertProbe(container.getLivenessProbe(), alive, container, managementPort);
    assertProbe(container.getStartupProbe(), alive, container, managementPort);
    assertThat(config.getObject("pekko.management.health-checks.readiness-checks").unwrapped())
        .containsEntry("warmgate-edge", "warmgate.cluster.NodeReady");
    assertThat(config.getObject("pekko.management.health-checks.liveness-checks").unwrapped())
        .containsEntry("warmgate-node", "warmgate.cluster.NodeAlive");
  }

  private static void assertProbe(Probe probe, String path, Container container, int port) {
    assertThat(probe).isNotNull();
    HTTPGetAction get = probe.getHttpGet();
    assertThat(get.getPath()).isEqualTo(path);
    IntOrString target = get.getPort();
    int resolved = target.getIntVal() != null ? target.getIntVal() : containerPort(container,
        target.getStrVal()).getContainerPort();
    assertThat(resolved).as("probe of " + path).isEqualTo(port);
  }

  private static ContainerPort containerPort(Container container, String name) {
    return container.getPorts().stream().filter(p -> name.equals(p.getName())).findFirst()
        .orElseThrow(() -> new AssertionError("no container port named " + name));
  }

  @Test
  void podsFindEachOtherByTheLabelTheyCarry() {
    Config config = BASE.podConfig();
    Deployment deployment = BASE.deployment();
    var settings = ClusterFormation.Settings.fromConfig(config);

    assertThat(settings.discovery()).isEqualTo("kubernetes-api");
    String selector = String.format(config.getString("pekko.discovery.kubernetes-api.pod-label-selector"),
        settings.serviceName());
    Map<String, String> wanted = new HashMap<>();
    for (String term : selector.split(",")) {
      String[] kv = term.split("=", 2);
      assertThat(kv).as("a plain key=value selector: " + selector).hasSize(2);
      wanted.put(kv[0].strip(), kv[1].strip());
    }
    assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(wanted);
    assertThat(config.getString("pekko.management.cluster.bootstrap.contact-point-discovery.port-name"))
        .as("bootstrap probes the named container port").isEqualTo(containerPort(BASE.container(),
            "management").getName());
    assertThat(config.getInt("pekko.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr"))
        .isBetween(2, deployment.getSpec().getReplicas());
    assertThat(config.getString("pekko.remote.artery.canonical.hostname")).isEqualTo(Manifests.POD_IP);
    assertThat(config.getBoolean("pekko.discovery.kubernetes-api.use-raw-ip"))
        .as("discovered contact points are pod IPs, the address each node gives itself").isTrue();
    assertThat(config.getString("pekko.management.http.hostname")).isEqualTo(Manifests.POD_IP);
  }

  @Test
  void podsMayReadTheirSiblingPodsAndNothingElse() {
    Role role = BASE.one(Role.class, "warmgate-pod-reader");
    RoleBinding binding = BASE.one(RoleBinding.class, "warmgate-pod-reader");
    String serviceAccount = BASE.deployment().getSpec().getTemplate().getSpec().getServiceAccountName();

    assertThat(role.getRules()).hasSize(1);
    PolicyRule rule = role.getRules().get(0);
    assertThat(rule.getApiGroups()).containsExactly("");
    assertThat(rule.getResources()).containsExactly("pods");
    assertThat(rule.getVerbs()).containsExactlyInAnyOrder("get", "watch", "list");
    assertThat(binding.getRoleRef().getKind()).isEqualTo("Role");
    assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
    assertThat(binding.getSubjects()).singleElement().satisfies(subject -> {
      assertThat(subject.getKind()).isEqualTo("ServiceAccount");
      assertThat(subject.getName()).isEqualTo(serviceAccount);
      assertThat(subject.getNamespace()).as("the namespace the kustomization deploys to")
          .isEqualTo(binding.getMetadata().getNamespace());
    });
    assertThat(BASE.one(io.fabric8.kubernetes.api.model.ServiceAccount.class, serviceAccount)).isNotNull();
  }

  @Test
  void serviceAndDisruptionBudgetSelectThePodsAndKeepManagementPrivate() {
    Map<String, String> podLabels = BASE.deployment().getSpec().getTemplate().getMetadata().getLabels();
    Service service = BASE.one(Service.class, "warmgate");
    PodDisruptionBudget pdb = BASE.one(PodDisruptionBudget.class, "warmgate");

    assertThat(podLabels).containsAllEntriesOf(service.getSpec().getSelector());
    assertThat(service.getSpec().getType()).isEqualTo("ClusterIP");
    assertThat(service.getSpec().getPorts()).singleElement().satisfies(port -> {
      assertThat(port.getPort()).isEqualTo(8080);
      assertThat(port.getTargetPort()).isEqualTo(new IntOrString("http"));
    });
    assertThat(containerPort(BASE.container(),
        "http").getContainerPort()).isEqualTo(BASE.podConfig().getInt("warmgate.http.port"));
    assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
    assertThat(pdb.getSpec().getMaxUnavailable()).as("a majority of three stays").isEqualTo(new IntOrString(1));
  }

  @Test
  void containerIsSizedToItsLimitAndExitsWhenDowned() {
    Container container = BASE.container();
    Map<String, Quantity> requests = container.getResources().getRequests();
    Map<String, Quantity> limits = container.getResources().getLimits();

    assertThat(requests).containsKeys("cpu", "memory");
    assertThat(limits).containsKeys("cpu", "memory");
    assertThat(limits.get("memory")).as("no memory overcommit for a JVM").isEqualTo(requests.get("memory"));
    assertThat(BASE.podEnvironment().get("JAVA_TOOL_OPTIONS")).containsPattern("-XX:MaxRAMPercentage=\\d+")
        .contains("-XX:+ExitOnOutOfMemoryError");
    assertThat(BASE.podConfig().getBoolean("pekko.coordinated-shutdown.exit-jvm")).isTrue();
    assertThat(BASE.deployment().getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds())
        .isGreaterThanOrEqualTo(30L);
  }

  @Test
  void configFileInTheConfigMapIsAWorkingNodeConfiguration() {
    Config config = BASE.podConfig();
    Config warmgate = config.getConfig("warmgate");

    Map<String, EndpointSettings> endpoints = EndpointSettings.fromConfig(warmgate);
    assertThat(endpoints.get("gen3d").provider()).isEqualTo("sagemaker");
    assertThat(RouteTable.fromConfig(warmgate, endpoints.keySet()).routes()).isNotEmpty();
    assertThat(DatabaseSettings.fromConfig(warmgate).kind()).isEqualTo(DatabaseSettings.Kind.POSTGRES);
    assertThat(warmgate.getString("blob-store.kind")).isEqualTo("s3");
    assertThat(warmgate.getString("http.interface")).isEqualTo("0.0.0.0");
    assertThat(warmgate.getBoolean("auth.enabled")).isTrue();
    assertThat(warmgate.getString("auth.tokens-file")).isEqualTo("/etc/warmgate/tokens/tokens.conf");
    assertThat(mountedSecretFiles()).contains("/etc/warmgate/tokens/tokens.conf");
  }

  @Test
  void everyVariableThePodsSetIsReadByTheConfigurationAndDocumented() {
    String configurationDoc = Repo.read(ROOT.resolve("docs/configuration.md"));
    List<String> read = Repo.environmentVariablesRead();
    Map<String, String> env = BASE.podEnvironment();

    for (String name : env.keySet()) {
      if (name.equals("JAVA_TOOL_OPTIONS")) {
        continue; // the JVM's own
      }
      assertThat(read).as(name + " is read by a ${?" + name + "} in the conf files").contains(name);
      assertThat(configurationDoc).as(name + " is in docs/configuration.md").contains("`" + name + "`");
    }
  }

  @Test
  void secretKeysThePodsReferToAreDocumented() {
    String operations = Repo.read(ROOT.resolve("docs/operations.md"));
    Set<String> keys = new TreeSet<>();
    for (Manifests manifests : List.of(BASE, DEV)) {
      for (HasMetadata o : manifests.objects()) {
        collectSecretKeys(Repo.MAPPER.valueToTree(o), keys);
      }
    }

    assertThat(keys).containsExactlyInAnyOrder("db-password", "auth-tokens", "webhook-secret",
        "eventbridge-api-key-sha256");
    for (String key : keys) {
      assertThat(operations).as("docs/operations.md says how to create " + SECRET + " with "
          + key).contains("--from-literal=" + key + "=");
    }
  }

  /** Keys of warmgate-secrets named anywhere: secretKeyRef entries and secret volume items. */
  private static void collectSecretKeys(JsonNode node, Set<String> keys) {
    if (node.isObject()) {
      if (SECRET.equals(node.path("name").asText()) && node.has("key")) {
        keys.add(node.path("key").asText());
      }
      if (SECRET.equals(node.path("secretName").asText())) {
        assertThat(node.path("items").isArray()).as("a secret volume names its keys").isTrue();
        node.path("items").forEach(item -> keys.add(item.path("key").asText()));
      }
      node.forEach(child -> collectSecretKeys(child, keys));
    } else if (node.isArray()) {
      node.forEach(child -> collectSecretKeys(child, keys));
    }
  }

  private static List<String> mountedSecretFiles() {
    List<String> files = new ArrayList<>();
    var spec = BASE.deployment().getSpec().getTemplate().getSpec();
    for (var mount : BASE.container().getVolumeMounts()) {
      Volume volume = spec.getVolumes().stream().filter(v ->
          v.getName().equals(mount.getName())).findFirst().orElseThrow();
      if (volume.getSecret() != null) {
        volume.getSecret().getItems().forEach(item -> files.add(mount.getMountPath() + "/" + item.getPath()));
      }
    }
    return files;
  }

  // ---- IAM

  /** S3 operations whose IAM action is not their own name. */
  private static final Map<String, List<String>> S3_ACTIONS = Map.of(
      // A HEAD or GET of a missing key is a 404 only with ListBucket; without it S3 answers 403, which would
      // read as an error instead of "not there yet" (a Gen3D image waiting for its mask).
      "headObject", List.of("s3:GetObject", "s3:ListBucket"),
      "getObject", List.of("s3:GetObject", "s3:ListBucket"),
      "listObjectsV2", List.of("s3:ListBucket"),
      "listObjects", List.of("s3:ListBucket"),
      "headBucket", List.of("s3:ListBucket"),
      // A server-side copy reads the source and writes the destination; a multipart copy (over 5 GB) too, and aborts
      // an upload it could not finish.
      "copyObject", List.of("s3:GetObject", "s3:PutObject"),
      "uploadPartCopy", List.of("s3:GetObject", "s3:PutObject"),
      "createMultipartUpload", List.of("s3:PutObject"),
      "completeMultipartUpload", List.of("s3:PutObject"),
      "abortMultipartUpload", List.of("s3:AbortMultipartUpload"));

  /** SQS batch operations, which IAM authorizes with the single message's action. */
  private static final Map<String, List<String>> SQS_ACTIONS = Map.of(
      "deleteMessageBatch", List.of("sqs:DeleteMessage"),
      "changeMessageVisibilityBatch", List.of("sqs:ChangeMessageVisibility"),
      "sendMessageBatch", List.of("sqs:SendMessage"));

  @Test
  void iamPolicyAllowsExactlyTheAwsCallsTheCodeMakes() throws Exception {
    Map<String, Set<String>> operations = Map.of(
        "s3", operationNames(S3AsyncClient.class),
        "sagemaker", union(operationNames(SageMakerAsyncClient.class),
            operationNames(SageMakerRuntimeAsyncClient.class)),
        "sqs", operationNames(SqsAsyncClient.class));
    Set<String> expected = new TreeSet<>();
    List<Path> awsFiles = new ArrayList<>();
    for (String module : List.of("core", "endpoint-actor", "request-actor", "http-api")) {
      try (Stream<Path> files = Files.walk(ROOT.resolve(module).resolve("src/main/java"))) {
        for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
          String source = Repo.read(file);
          if (!source.contains("software.amazon.awssdk.services.")) {
            continue;
          }
          awsFiles.add(ROOT.relativize(file));
          Matcher call = Pattern.compile("\\.(\\w+)\\(").matcher(source);
          while (call.find()) {
            String method = call.group(1);
            if (operations.get("s3").contains(method)) {
              expected.addAll(S3_ACTIONS.getOrDefault(method, List.of("s3:" + capitalized(method))));
            } else if (operations.get("sagemaker").contains(method)) {
              expected.add("sagemaker:" + capitalized(method));
            } else if (operations.get("sqs").contains(method)) {
              expected.addAll(SQS_ACTIONS.getOrDefault(method, List.of("sqs:" + capitalized(method))));
            }
          }
        }
      }
    }
    JsonNode policy = Repo.MAPPER.readTree(ROOT.resolve("k8s/iam-policy.json").toFile());
    Set<String> allowed = new TreeSet<>();
    for (JsonNode statement : policy.path("Statement")) {
      assertThat(statement.path("Effect").asText()).isEqualTo("Allow");
      statement.path("Action").forEach(a -> allowed.add(a.asText()));
      assertThat(statement.path("Resource")).as("resources are named, never *").isNotEmpty()
          .allSatisfy(r -> assertThat(r.asText()).startsWith("arn:aws:").doesNotContain("*:").isNotEqualTo("*"));
    }

    assertThat(awsFiles).as("the files that call AWS").containsExactlyInAnyOrder(
        Path.of("request-actor/src/main/java/warmgate/blob/s3/S3BlobStore.java"),
        Path.of("endpoint-actor/src/main/java/warmgate/provider/sagemaker/SageMakerClients.java"),
        Path.of("endpoint-actor/src/main/java/warmgate/provider/sagemaker/SageMakerEndpoint.java"),
        Path.of("endpoint-actor/src/main/java/warmgate/provider/sagemaker/SageMakerRealtime.java"),
        Path.of("endpoint-actor/src/main/java/warmgate/provider/sagemaker/SageMakerAsync.java"),
        Path.of("endpoint-actor/src/main/java/warmgate/provider/sagemaker/SageMakerComponentEndpoint.java"),
        Path.of("http-api/src/main/java/warmgate/ingest/sqs/SqsConsumer.java"),
        Path.of("http-api/src/main/java/warmgate/ingest/sqs/SqsSource.java"));
    assertThat(expected).containsExactlyInAnyOrder("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket",
        "s3:AbortMultipartUpload",
        "sagemaker:DescribeEndpoint", "sagemaker:CreateEndpoint", "sagemaker:DeleteEndpoint",
        "sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync", "sagemaker:DescribeInferenceComponent",
        "sagemaker:UpdateInferenceComponentRuntimeConfig",
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility");
    assertThat(allowed).as("k8s/iam-policy.json allows exactly what the code calls").isEqualTo(expected);
    assertThat(policy.path("Version").asText()).isEqualTo("2012-10-17");
  }

  /** The service operations of an SDK client interface: its methods, less the plumbing every client has. */
  private static Set<String> operationNames(Class<?> client) {
    Set<String> plumbing = Set.of("serviceName", "close", "create", "builder", "utilities", "waiter",
        "serviceClientConfiguration",
        "toString", "hashCode", "equals", "getClass");
    return Stream.of(client.getMethods()).map(java.lang.reflect.Method::getName)
        .filter(n -> !plumbing.contains(n) && !n.endsWith("Paginator")).collect(Collectors.toSet());
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> all = new TreeSet<>(a);
    all.addAll(b);
    return all;
  }

  private static String capitalized(String method) {
    return Character.toUpperCase(method.charAt(0)) + method.substring(1);
  }

  @Test
  void secretsStayOutOfTheConfigMaps() {
    for (Manifests manifests : List.of(BASE, DEV)) {
      for (ConfigMap map : manifests.all(ConfigMap.class)) {
        assertThat(map.getData().keySet()).as("ConfigMap " + map.getMetadata().getName())
            .noneMatch(key -> key.matches(".*(PASSWORD|SECRET|TOKENS|API_KEY).*") && !key.endsWith("_FILE"));
      }
    }
  }
}
