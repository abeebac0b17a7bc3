package warmgate.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import com.typesafe.config.Config;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import warmgate.config.EndpointSettings;
import warmgate.persistence.DatabaseSettings;

// An IT (failsafe) only because Helm's native library, once loaded, breaks Jazzer's fuzz tests in surefire's JVM.
// No cluster: k8s/helm/warmgate rendered in this JVM by Helm's own template engine (helm.sh/helm/v3 as a native
// library, through helm-java, as `helm template` renders it), k8s/base by `kubectl kustomize` where kubectl is
// installed and by Kustomize.java where it is not; both read strictly into the Kubernetes model (fabric8).
class HelmChartIT {
  private static final Path ROOT = Repo.root();
  private static final Path CHART = ROOT.resolve("k8s/helm/warmgate");
  /** The base's namespace (its kustomization's {@code namespace:}); the chart deploys to the release's. */
  private static final String NAMESPACE = "warmgate";

  /** {@code helm template warmgate k8s/helm/warmgate --namespace NAMESPACE [-f values]}, one JSON tree per object. */
  private static List<JsonNode> helmTemplate(String namespace, Path values) {
    TemplateCommand template = new Helm(CHART).template().withName("warmgate").withNamespace(namespace);
    if (values != null) {
      template = template.withValuesFile(values);
    }
    return Repo.yamlDocuments(template.call());
  }

  private static Manifests chart(String namespace, Path values) {
    return new Manifests(helmTemplate(namespace, values).stream().map(KubernetesModel::read).toList());
  }

  /** kubectl on the PATH, if there is one. */
  private static Optional<Path> kubectl() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(dir, "kubectl");
      if (!dir.isEmpty() && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** {@code kubectl kustomize k8s/base} (it renders offline), or Kustomize.java without kubectl. */
  private static List<JsonNode> kustomizeBase() {
    Optional<Path> kubectl = kubectl();
    if (kubectl.isEmpty()) {
      return List.copyOf(Kustomize.build(ROOT.resolve("k8s/base")));
    }
    return Repo.yamlDocuments(run(kubectl.get().toString(), "kustomize", ROOT.resolve("k8s/base").toString()));
  }

  private static String run(String... command) {
    try {
      Process process = new ProcessBuilder(command).start();
      var stdout = process.getInputStream().readAllBytes();
      var stderr = process.getErrorStream().readAllBytes();
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new AssertionError(String.join(" ", command) + " failed: " + new String(stderr,
            StandardCharsets.UTF_8));
      }
      return new String(stdout, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Each object as the Kubernetes model reads it back, by kind and name. */
  private static Map<String, JsonNode> byKindAndName(List<JsonNode> documents) {
    Map<String, JsonNode> objects = new TreeMap<>();
    for (JsonNode document : documents) {
      HasMetadata object = KubernetesModel.read(document);
      String key = object.getKind() + "/" + object.getMetadata().getName();
      assertThat(objects.put(key, Repo.MAPPER.valueToTree(object))).as("two objects are " + key).isNull();
    }
    return objects;
  }

  /** Adds to {@code out} where two trees differ: a JSON pointer and both values for each difference. */
  private static void differences(JsonNode expected, JsonNode actual, String at, List<String> out) {
    if (expected.isObject() && actual.isObject()) {
      var names = new TreeSet<String>();
      expected.fieldNames().forEachRemaining(names::add);
      actual.fieldNames().forEachRemaining(names::add);
      for (String name : names) {
        differences(expected.path(name), actual.path(name), at + "/" + name, out);
      }
    } else if (expected.isArray() && actual.isArray() && expected.size() == actual.size()) {
      for (int i = 0; i < expected.size(); i++) {
        differences(expected.get(i), actual.get(i), at + "/" + i, out);
      }
    } else if (!expected.equals(actual)) {
      out.add(at + ": kustomize " + expected + ", helm " + actual);
    }
  }

  @Test
  void defaultValuesRenderTheObjectsOfTheKustomizeBase() {
    Map<String, JsonNode> base = byKindAndName(kustomizeBase());
    Map<String, JsonNode> chart = byKindAndName(helmTemplate(NAMESPACE, null));

    assertThat(chart.keySet()).isEqualTo(base.keySet());
    assertThat(base).hasSize(8);
    List<String> differences = new ArrayList<>();
    base.forEach((key, expected) -> differences(expected, chart.get(key), key, differences));
    assertThat(differences).as("the chart's defaults against kubectl kustomize k8s/base").isEmpty();
  }

  @Test
  void kubectlAndTheTestsOwnKustomizeRenderTheBaseAlike() {
    assumeTrue(kubectl().isPresent(), "no kubectl on the PATH");
    Map<String, JsonNode> kubectl = byKindAndName(kustomizeBase());
    Map<String, JsonNode> ours = byKindAndName(List.copyOf(Kustomize.build(ROOT.resolve("k8s/base"))));

    assertThat(ours).isEqualTo(kubectl);
  }

  @Test
  void overriddenValuesLandWhereThePodsReadThem(@TempDir Path dir) throws IOException {
    Path values = dir.resolve("values.yaml");
    Files.writeString(values, """
        replicas: 5
        image:
          repository: registry.example.com/ml/warmgate
          tag: "1.2.3"
          pullPolicy: Always
        resources:
          requests: {cpu: "1", memory: 2Gi}
          limits: {cpu: "4", memory: 2Gi}
        serviceAccount:
          iamRoleArn: ""
          annotations: {example.com/team: ml-platform}
        database:
          url: jdbc:postgresql://db.example.com:5432/gateway
          user: gateway
          passwordSecret: {name: pg-credentials, key: password}
        tokensSecret: {name: api-tokens, key: entries.conf}
        webhookSecret: {name: hooks, key: signing-key}
        env:
          AWS_REGION: eu-west-1
          WARMGATE_LOG_LEVEL: DEBUG
        config: |
          include classpath("application.conf")
          warmgate.endpoints.caption {
            provider = sagemaker
            sagemaker { endpoint-name = "caption", endpoint-config-name = "caption-config" }
          }
          warmgate.routes = []
        """);

    Manifests chart = chart("gateway", values);

    assertThat(chart.objects()).allSatisfy(o -> assertThat(o.getMetadata().getNamespace()).as(o.getKind())
        .isEqualTo("gateway"));
    assertThat(chart.one(RoleBinding.class, "warmgate-pod-reader").getSubjects().get(0).getNamespace())
        .isEqualTo("gateway");
    assertThat(chart.one(ServiceAccount.class, "warmgate").getMetadata()
        .getAnnotations()).isEqualTo(Map.of("example.com/team", "ml-platform"));
    assertThat(chart.deployment().getSpec().getReplicas()).isEqualTo(5);
    var container = chart.container();
    assertThat(container.getImage()).isEqualTo("registry.example.com/ml/warmgate:1.2.3");
    assertThat(container.getImagePullPolicy()).isEqualTo("Always");
    assertThat(container.getResources().getRequests()).isEqualTo(Map.of("cpu", new Quantity("1"), "memory",
        new Quantity("2Gi")));
    assertThat(container.getResources().getLimits()).isEqualTo(Map.of("cpu", new Quantity("4"), "memory",
        new Quantity("2Gi")));

    Map<String, String> env = chart.podEnvironment();
    assertThat(env).containsEntry("WARMGATE_DB_PASSWORD", "pg-credentials/password")
        .containsEntry("WARMGATE_WEBHOOK_SECRET", "hooks/signing-key")
        .containsEntry("WARMGATE_EVENTBRIDGE_API_KEY_SHA256", "warmgate-secrets/eventbridge-api-key-sha256")
        .containsEntry("WARMGATE_REQUIRED_CONTACT_POINTS", "5")
        .containsEntry("AWS_REGION", "eu-west-1").containsEntry("WARMGATE_LOG_LEVEL", "DEBUG");
    Volume tokens = chart.deployment().getSpec().getTemplate().getSpec().getVolumes().stream()
        .filter(v -> v.getName().equals("tokens")).findFirst().orElseThrow();
    assertThat(tokens.getSecret().getSecretName()).isEqualTo("api-tokens");
    assertThat(tokens.getSecret().getItems()).singleElement().satisfies(item -> {
      assertThat(item.getKey()).isEqualTo("entries.conf");
      assertThat(item.getPath()).isEqualTo("tokens.conf");
    });

    Config config = chart.podConfig();
    DatabaseSettings database = DatabaseSettings.fromConfig(config.getConfig("warmgate"));
    assertThat(database.url()).isEqualTo("jdbc:postgresql://db.example.com:5432/gateway");
    assertThat(database.user()).isEqualTo("gateway");
    assertThat(EndpointSettings.fromConfig(config.getConfig("warmgate")).get("caption").provider())
        .isEqualTo("sagemaker");
    assertThat(config.getString("warmgate.endpoints.caption.sagemaker.endpoint-name")).isEqualTo("caption");
    assertThat(config.getString("warmgate.auth.tokens-file")).isEqualTo("/etc/warmgate/tokens/tokens.conf");
    assertThat(config.getInt("pekko.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr"))
        .isEqualTo(5);
  }

  @Test
  void refusesMoreRequiredContactPointsThanReplicas(@TempDir Path dir) throws IOException {
    Path values = dir.resolve("values.yaml");
    Files.writeString(values, "replicas: 1\nrequiredContactPoints: 3\n");

    assertThatThrownBy(() -> helmTemplate(NAMESPACE, values)).hasMessageContaining("no cluster would ever form");
  }

  @Test
  void everyValueIsInTheOperationsGuidesTable() {
    String operations = Repo.read(ROOT.resolve("docs/operations.md"));
    List<String> paths = new ArrayList<>();
    leafPaths(Repo.yaml(CHART.resolve("values.yaml")), "", paths);

    assertThat(paths).contains("replicas", "image.repository", "database.passwordSecret.name", "tokensSecret.key",
        "config", "env", "resources", "serviceAccount.annotations");
    for (String path : paths) {
      assertThat(operations).as("docs/operations.md's table of the chart's values has " + path)
          .contains("| `" + path + "` |");
    }
  }

  /** Maps the chart hands over whole (toYaml, range) are one value; other maps are walked. */
  private static void leafPaths(JsonNode node, String at, List<String> out) {
    boolean whole = List.of("resources", "env", "serviceAccount.annotations").contains(at);
    if (node.isObject() && !whole) {
      node.fieldNames().forEachRemaining(name -> leafPaths(node.path(name), at.isEmpty() ? name : at + "." + name,
          out));
    } else {
      out.add(at);
    }
  }
}
