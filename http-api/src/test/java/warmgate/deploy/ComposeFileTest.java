package warmgate.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import warmgate.auth.Tokens;
import warmgate.cluster.ClusterFormation;
import warmgate.config.BlobStoreSettings;
import warmgate.ingest.RouteTable;
import warmgate.persistence.DatabaseSettings;

// Files only: docker/compose.yaml and docker/Dockerfile read as text and YAML, each node's configuration computed
// from its environment. No Docker engine is run.
class ComposeFileTest {
  private static final Path ROOT = Repo.root();
  private static final JsonNode COMPOSE = Repo.yaml(ROOT.resolve("docker/compose.yaml"));
  private static final List<String> NODES = List.of("warmgate-1", "warmgate-2");
  /** What a user exports before `docker compose up`: the variables the file insists on. */
  private static final String TOKEN = "wg_" + "t".repeat(43);
  private static final Map<String, String> SHELL = Map.of(
      "WARMGATE_DB_PASSWORD", "pg-secret", "MINIO_ROOT_PASSWORD", "minio-secret",
      "WARMGATE_AUTH_TOKENS", "{ name = admin, sha256 = \"" + Tokens.sha256Hex(TOKEN) + "\", admin = true }",
      "WARMGATE_TOKEN", TOKEN);
  private static final Pattern INTERPOLATION = Pattern.compile("\\$\\{(\\w+)(?::?([?-])([^}]*))?}");

  private static JsonNode service(String name) {
    JsonNode service = COMPOSE.path("services").path(name);
    assertThat(service.isObject()).as("service " + name).isTrue();
    return service;
  }

  /**
   * A service's environment: for a Warmgate node the image's ENV first, then the service's entries as compose hands
   * them over, ${VAR:?...} and ${VAR:-default} filled from {@link #SHELL}.
   */
  private static Map<String, String> environment(String name) {
    Map<String, String> env = new LinkedHashMap<>();
    if (service(name).path("build").path("dockerfile").asText().equals("docker/Dockerfile")) {
      env.putAll(imageEnvironment());
    }
    service(name).path("environment").properties().forEach(e -> {
      if (e.getValue().isNull()) {
        if (SHELL.containsKey(e.getKey())) {
          env.put(e.getKey(), SHELL.get(e.getKey()));
        }
        return; // passed on only when set in the shell
      }
      assertThat(e.getValue().isTextual()).as(name + " " + e.getKey()
          + " is a string (quote numbers and booleans)").isTrue();
      env.put(e.getKey(), interpolate(e.getValue().asText()));
    });
    return env;
  }

  /** The Dockerfile's ENV instructions (KEY=value pairs, continued lines joined). */
  private static Map<String, String> imageEnvironment() {
    String dockerfile = Repo.read(ROOT.resolve("docker/Dockerfile")).replaceAll("\\\\\n", " ");
    Map<String, String> env = new LinkedHashMap<>();
    for (String line : dockerfile.split("\n")) {
      if (line.startsWith("ENV ")) {
        Matcher pair = Pattern.compile("(\\w+)=(\"[^\"]*\"|\\S+)").matcher(line.substring(4));
        while (pair.find()) {
          env.put(pair.group(1), pair.group(2).replaceAll("^\"|\"$", ""));
        }
      }
    }
    assertThat(env).as("the image's ENV").containsKeys("WARMGATE_DATA_DIR", "WARMGATE_HTTP_INTERFACE",
        "JAVA_TOOL_OPTIONS");
    return env;
  }

  private static String interpolate(String value) {
    Matcher m = INTERPOLATION.matcher(value.replace("$$", "\u0000"));
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String given = SHELL.get(m.group(1));
      if (given == null && "?".equals(m.group(2))) {
        throw new AssertionError("compose would refuse to start without " + m.group(1) + ": " + m.group(3));
      }
      m.appendReplacement(out, Matcher.quoteReplacement(given != null ? given : m.group(3) == null ? "" : m.group(3)));
    }
    m.appendTail(out);
    return out.toString().replace("\u0000", "$");
  }

  private static Config nodeConfig(String name) {
    return ClusterFormation.applyTo(Manifests.effectiveConfig("include classpath(\"application.conf\")",
        environment(name)));
  }

  @Test
  void twoNodesBesidePostgresAndMinioWhoseBucketIsCreated() {
    Set<String> services = new HashSet<>();
    COMPOSE.path("services").fieldNames().forEachRemaining(services::add);

    assertThat(services).containsExactlyInAnyOrder("postgres", "minio", "minio-init", "warmgate-1", "warmgate-2");
    Config config = nodeConfig("warmgate-1");
    String bucket = RouteTable.fromConfig(config.getConfig("warmgate"), Set.of("gen3d")).routes().get(0).bucket();
    assertThat(service("minio-init").path("command").toString()).contains("mc mb").contains("local/" + bucket);
    assertThat(service("warmgate-1").path("depends_on").path("minio-init").path("condition").asText())
        .isEqualTo("service_completed_successfully");
  }

  @Test
  void nodesFormOneClusterThroughTheirListedManagementAddresses() {
    List<String> ownContactPoints = new ArrayList<>();
    Set<Integer> ports = new HashSet<>();
    for (String node : NODES) {
      Config config = nodeConfig(node);
      var settings = ClusterFormation.Settings.fromConfig(config);
      assertThat(settings.discovery()).isEqualTo("config");
      assertThat(config.getInt("pekko.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr"))
          .isEqualTo(NODES.size());
      String own = config.getString("pekko.management.http.hostname") + ":"
          + config.getInt("pekko.management.http.port");
      assertThat(settings.contactPoints()).as(node + " lists itself").contains(own);
      assertThat(settings.contactPoints()).hasSize(NODES.size());
      ownContactPoints.add(own);
      // One network namespace: every port must differ between the nodes.
      assertThat(ports.add(config.getInt("warmgate.http.port"))).isTrue();
      assertThat(ports.add(config.getInt("pekko.remote.artery.canonical.port"))).isTrue();
      assertThat(ports.add(config.getInt("pekko.management.http.port"))).isTrue();
      assertThat(config.getBoolean("pekko.coordinated-shutdown.exit-jvm")).isTrue();
    }
    assertThat(ClusterFormation.Settings.fromConfig(nodeConfig("warmgate-1")).contactPoints())
        .containsExactlyInAnyOrderElementsOf(ownContactPoints);
    assertThat(service("warmgate-2").path("network_mode").asText()).isEqualTo("service:warmgate-1");
    assertThat(service("warmgate-2").path("pid").asText()).as("the model process is adopted by pid")
        .isEqualTo("service:warmgate-1");
    List<String> published = new ArrayList<>();
    service("warmgate-1").path("ports").forEach(p -> published.add(p.asText()));
    for (String node : NODES) {
      int port = nodeConfig(node).getInt("warmgate.http.port");
      assertThat(published).as(node + "'s HTTP port is published").contains(port + ":" + port);
    }
  }

  @Test
  void nodesShareThePostgresJournalTheMinioBucketsAndTheModelState() {
    Map<String, String> postgres = environment("postgres");
    Map<String, String> minio = environment("minio");
    for (String node : NODES) {
      Config warmgate = nodeConfig(node).getConfig("warmgate");
      DatabaseSettings database = DatabaseSettings.fromConfig(warmgate);
      assertThat(database.kind()).isEqualTo(DatabaseSettings.Kind.POSTGRES);
      assertThat(database.url()).isEqualTo("jdbc:postgresql://postgres:5432/" + postgres.get("POSTGRES_DB"));
      assertThat(database.user()).isEqualTo(postgres.get("POSTGRES_USER"));
      assertThat(database.password()).isEqualTo(postgres.get("POSTGRES_PASSWORD"));
      BlobStoreSettings blobs = BlobStoreSettings.fromConfig(warmgate);
      assertThat(blobs.kind()).isEqualTo("s3");
      assertThat(URI.create(warmgate.getString("blob-store.s3.endpoint-override")).getHost()).isEqualTo("minio");
      assertThat(environment(node)).containsEntry("AWS_ACCESS_KEY_ID", minio.get("MINIO_ROOT_USER"))
          .containsEntry("AWS_SECRET_ACCESS_KEY", minio.get("MINIO_ROOT_PASSWORD"));
      assertThat(service(node).path("volumes").get(0).asText()).isEqualTo("warmgate-data:"
          + warmgate.getString("data-dir"));
    }
  }

  @Test
  void secretsComeFromTheShellAndEveryVariableIsReadAndDocumented() {
    String text = Repo.read(ROOT.resolve("docker/compose.yaml"));
    for (String secret : List.of("WARMGATE_DB_PASSWORD", "MINIO_ROOT_PASSWORD", "WARMGATE_AUTH_TOKENS",
        "WARMGATE_TOKEN")) {
      assertThat(text).as(secret + " must be set by the user").contains("${" + secret + ":?");
    }
    List<String> read = Repo.environmentVariablesRead();
    String configurationDoc = Repo.read(ROOT.resolve("docs/configuration.md"));
    for (String node : NODES) {
      service(node).path("environment").fieldNames().forEachRemaining(name -> {
        if (name.startsWith("WARMGATE_") || name.equals("AWS_REGION")) {
          assertThat(read).as(name + " is read by a ${?" + name + "} in the conf files").contains(name);
          assertThat(configurationDoc).as(name + " is in docs/configuration.md").contains("`" + name + "`");
        } else {
          assertThat(name).as("a variable the AWS SDK reads").isIn("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY");
        }
      });
    }
  }

  @Test
  void minioNotifiesNodeOneOfEveryUploadToTheRoutedBucketWithAnAdminToken() {
    Map<String, String> minio = environment("minio");
    String target = "1";
    assertThat(minio).containsEntry("MINIO_NOTIFY_WEBHOOK_ENABLE_" + target, "on");

    // The endpoint is node 1's S3 notification route, on the port node 1 listens on, by its service name.
    URI endpoint = URI.create(minio.get("MINIO_NOTIFY_WEBHOOK_ENDPOINT_" + target));
    assertThat(endpoint.getScheme()).isEqualTo("http");
    assertThat(endpoint.getHost()).isEqualTo("warmgate-1");
    assertThat(endpoint.getPort()).isEqualTo(nodeConfig("warmgate-1").getInt("warmgate.http.port"));
    assertThat(endpoint.getPath()).isEqualTo("/v1/notifications/s3");

    // MinIO sends a one-word token as "Authorization: Bearer <token>"; the route wants an admin token, so the
    // token must be one whose digest the nodes hold as an admin entry.
    String token = minio.get("MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_" + target);
    assertThat(token).isEqualTo(TOKEN).doesNotContain(" ");
    for (String node : NODES) {
      assertThat(nodeConfig(node).getString("warmgate.auth.extra-tokens"))
          .contains(Tokens.sha256Hex(token)).contains("admin = true");
    }

    // Events raised while node 1 is not up yet wait on a volume of their own, not in MinIO's data directory.
    String queue = minio.get("MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_" + target);
    List<String> volumes = new ArrayList<>();
    service("minio").path("volumes").forEach(v -> volumes.add(v.asText()));
    assertThat(volumes).anyMatch(v -> v.endsWith(":" + queue) && !v.startsWith("miniodata:"));

    // minio-init subscribes the target to uploads in the bucket the default route reads, once.
    String bucket = RouteTable.fromConfig(nodeConfig("warmgate-1").getConfig("warmgate"), Set.of("gen3d")).routes()
        .get(0).bucket();
    String init = service("minio-init").path("command").get(0).asText();
    String arn = "arn:minio:sqs::" + target + ":webhook";
    assertThat(init).contains("mc event add local/" + bucket + " " + arn + " --event put")
        .contains("mc event list local/" + bucket + " " + arn);
    assertThat(init.indexOf("mc mb")).isLessThan(init.indexOf("mc event add"));
  }

  @Test
  void dockerfileCopiesTheJarAndLibrariesTheBuildProduces() {
    String dockerfile = Repo.read(ROOT.resolve("docker/Dockerfile"));
    String pom = Repo.read(ROOT.resolve("http-api/pom.xml"));

    assertThat(pom).contains("<finalName>warmgate</finalName>")
        .contains("<outputDirectory>${project.build.directory}/lib</outputDirectory>");
    assertThat(dockerfile).contains("COPY --from=build /src/http-api/target/warmgate.jar warmgate.jar")
        .contains("COPY --from=build /src/http-api/target/lib/ lib/")
        .contains("ENTRYPOINT [\"java\", \"-XX:SharedArchiveFile=/opt/warmgate/warmgate.jsa\", \"-jar\", "
            + "\"/opt/warmgate/warmgate.jar\"]")
        .as("the archive the ENTRYPOINT maps is made from the same jar, in the same place")
        .contains("RUN java -XX:ArchiveClassesAtExit=/opt/warmgate/warmgate.jsa -jar /opt/warmgate/warmgate.jar "
            + "cds-training");
    assertThat(pom).contains("<classpathPrefix>lib/</classpathPrefix>");
    assertThat(dockerfile).contains("EXPOSE 8080 25520 8558");
    Config defaults = Manifests.effectiveConfig("include classpath(\"application.conf\")", Map.of());
    assertThat(defaults.getInt("pekko.management.http.port")).isEqualTo(8558);
    assertThat(defaults.getInt("pekko.remote.artery.canonical.port")).isEqualTo(25520);
    assertThat(defaults.getInt("warmgate.http.port")).isEqualTo(8080);
  }

  @Test
  void dependencyLayerHasEveryModulesPomAndFailsTheBuildWhenItFails() {
    List<String> build = instructions(ROOT.resolve("docker/Dockerfile")).stream()
        .takeWhile(i -> !i.startsWith("FROM eclipse-temurin")).toList();
    int sources = indexOf(build, i -> i.equals("COPY . ."));
    int dependencies = indexOf(build, i -> i.startsWith("RUN mvn "));
    assertThat(dependencies).as("the dependency step comes before the sources").isLessThan(sources);
    assertThat(build.get(dependencies)).as("resolves what the build resolves; go-offline wants an optional "
        + "dependency that was never published").doesNotContain("go-offline");
    List<String> afterSources = build.subList(sources, build.size());
    assertThat(afterSources.get(indexOf(afterSources, i -> i.startsWith("RUN mvn ")))).as("the build of the sources")
        .contains("package");

    Matcher module = Pattern.compile("<module>([^<]+)</module>").matcher(Repo.read(ROOT.resolve("pom.xml")));
    List<String> modules = new ArrayList<>();
    while (module.find()) {
      modules.add(module.group(1).strip());
    }
    assertThat(modules).as("pom.xml's modules").contains("http-api", "bench");
    List<String> copiedBefore = build.subList(0, dependencies);
    assertThat(copiedBefore).as("the root pom, and checkstyle.xml, which validate reads")
        .contains("COPY pom.xml checkstyle.xml ./");
    for (String name : modules) {
      assertThat(copiedBefore).as("Maven refuses a reactor whose module " + name + " has no pom")
          .contains("COPY " + name + "/pom.xml " + name + "/");
    }
    String step = build.get(dependencies);
    assertThat(step).as("a failed dependency step fails the build instead of leaving an empty layer")
        .doesNotContain("||").doesNotContain("; true").doesNotContain("set +e").doesNotContain("-fae")
        .doesNotContain("--fail-never").doesNotContain("-fn");
  }

  @Test
  void imageUserHasTheUidAndGidThePodsRunAs() {
    List<String> run = instructions(ROOT.resolve("docker/Dockerfile"));
    JsonNode security = Repo.yaml(ROOT.resolve("k8s/base/deployment.yaml")).path("spec").path("template")
        .path("spec").path("securityContext");
    String uid = security.path("runAsUser").asText();
    String gid = security.path("runAsGroup").asText();
    assertThat(uid).isEqualTo("10001");
    assertThat(gid).isEqualTo("10001");
    String user = run.stream().filter(i -> i.contains("useradd")).findFirst().orElseThrow();
    assertThat(user).contains("groupadd --system --gid " + gid + " warmgate")
        .contains("useradd --system --uid " + uid + " --gid " + gid + " ");
    assertThat(run).contains("USER warmgate");
  }

  @Test
  void composeV1AcceptsTheFileAndNodesHaveAsLongToDrainAsThePods() {
    assertThat(COMPOSE.has("name")).as("docker-compose v1 refuses a top-level name:").isFalse();
    int podGrace = Repo.yaml(ROOT.resolve("k8s/base/deployment.yaml")).path("spec").path("template").path("spec")
        .path("terminationGracePeriodSeconds").asInt();
    assertThat(podGrace).isEqualTo(60);
    for (String node : NODES) {
      assertThat(service(node).path("stop_grace_period").asText()).as(node + " stop_grace_period")
          .isEqualTo(podGrace + "s");
    }
  }

  /** A Dockerfile's instructions, continued lines joined, comments and blank lines left out. */
  private static List<String> instructions(Path dockerfile) {
    return List.of(Repo.read(dockerfile).replaceAll("\\\\\n\\s*", " ").split("\n")).stream()
        .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
  }

  private static int indexOf(List<String> instructions, Predicate<String> wanted) {
    for (int i = 0; i < instructions.size(); i++) {
      if (wanted.test(instructions.get(i))) {
        return i;
      }
    }
    throw new AssertionError("no such instruction in " + instructions);
  }
}
