package warmgate.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import warmgate.Json;
import warmgate.auth.TestTokens;
import warmgate.auth.Tokens;
import warmgate.demo.SampleImages;
import warmgate.e2e.Api;
import warmgate.e2e.Await;
import warmgate.e2e.Ports;
import warmgate.e2e.Postgres;
import warmgate.e2e.S3Server;
import warmgate.provider.sagemaker.SageMakerStandIn;
import warmgate.provider.sagemaker.SageMakerStandIn.Reply;

// A real Docker engine (docker/test/engine): the image built from docker/Dockerfile, run as k8s/base runs the pod,
// and docker/compose.yaml's two nodes on PostgreSQL, with S3Proxy for MinIO.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContainerIT {
  private static final Path ROOT = Repo.root();
  private static final String IMAGE = "warmgate:latest";
  /** The build stage of the last build of {@link #IMAGE}, kept tagged so that the next run builds from its cache. */
  private static final String BUILD_STAGE = "warmgate-test/build-stage";
  private static final String CHANGED = "warmgate-test/source-change";
  /** On what this test makes outside compose, so that a run finds and removes what a killed run left behind. */
  private static final String LABEL = "warmgate.test=container-it";
  private static final String POD = "warmgate-it-pod";
  private static final String PROJECT = "warmgate-it";
  private static final Duration ENGINE = Duration.ofMinutes(20);
  private static final Duration BUILD = Duration.ofMinutes(15);
  private static final Duration COMMAND = Duration.ofMinutes(2);
  private static final Duration START = Duration.ofMinutes(3);
  private static final Duration JOB = Duration.ofMinutes(3);
  /** The JVM's status after SIGTERM: its shutdown hooks (coordinated shutdown) ran, then it ended with 128 + 15. */
  private static final int SIGTERM_EXIT = 143;
  private static final Pattern STEP = Pattern.compile("^Step \\d+/\\d+ : (.*)$");
  private static final Pattern LAYER = Pattern.compile("^ ---> ([0-9a-f]{12})$");

  private final Path work = ROOT.resolve("http-api/target/container-it");
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Map<String, String> measures = new LinkedHashMap<>();
  private FileChannel lock;
  private Docker docker;
  private Build first;

  /** One step of a legacy-builder build: its instruction, whether its layer came from the cache, the layer's id. */
  record Step(String instruction, boolean cached, String id) {}

  record Build(List<Step> steps, Duration took) {
    static Build of(String output, Duration took) {
      List<Step> steps = new ArrayList<>();
      String instruction = null;
      boolean cached = false;
      String id = null;
      for (String line : output.split("\n")) {
        Matcher step = STEP.matcher(line);
        Matcher layer = LAYER.matcher(line);
        if (step.matches()) {
          if (instruction != null) {
            steps.add(new Step(instruction, cached, id));
          }
          instruction = step.group(1).trim();
          cached = false;
          id = null;
        } else if (line.equals(" ---> Using cache")) {
          cached = true;
        } else if (layer.matches()) {
          id = layer.group(1);
        }
      }
      if (instruction != null) {
        steps.add(new Step(instruction, cached, id));
      }
      return new Build(steps, took);
    }

    /** The first step whose instruction starts with {@code prefix}. */
    int index(String prefix) {
      for (int i = 0; i < steps.size(); i++) {
        if (steps.get(i).instruction().startsWith(prefix)) {
          return i;
        }
      }
      throw new AssertionError("no step " + prefix + " in " + steps);
    }

    /** The last layer of the build stage: the step before the last FROM. */
    String buildStage() {
      int lastFrom = 0;
      for (int i = 0; i < steps.size(); i++) {
        if (steps.get(i).instruction().startsWith("FROM ")) {
          lastFrom = i;
        }
      }
      return steps.get(lastFrom - 1).id();
    }
  }

  @BeforeAll
  void engineAndImage() throws Exception {
    deleteTree(work);
    Files.createDirectories(work);
    // One container test at a time on a machine: compose.yaml publishes fixed ports, and the engine is shared.
    lock = FileChannel.open(Path.of(System.getProperty("java.io.tmpdir"), "warmgate-container-it.lock"),
        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    if (lock.tryLock() == null) {
      System.out.println("Waiting for the container test of another build on this machine to end");
      lock.lock();
    }
    docker = new Docker(engineUp(), work.resolve("docker-commands.log"));
    removeLeftovers();

    Optional<String> oldImage = imageId(IMAGE);
    Optional<String> oldStage = imageId(BUILD_STAGE);
    first = build(ROOT, IMAGE);
    docker.ok(COMMAND, "tag", first.buildStage(), BUILD_STAGE);
    // What the build replaced (after a source change) would pile up, untagged, in the engine's data root.
    for (Optional<String> old : List.of(oldImage, oldStage)) {
      old.filter(id -> !id.equals(imageId(IMAGE).orElse("")) && !id.equals(imageId(BUILD_STAGE).orElse("")))
          .ifPresent(id -> docker.docker(COMMAND, "rmi", id));
    }
    long bytes = Long.parseLong(docker.ok(COMMAND, "image", "inspect", "-f", "{{.Size}}", IMAGE));
    measure("first build (s)", seconds(first.took()));
    measure("first build, dependency layer from the cache", String.valueOf(
        first.steps().get(first.index("RUN mvn")).cached()));
    measure("image size (MB)", String.valueOf(bytes / 1_000_000));
  }

  @AfterAll
  void cleanUp() throws Exception {
    try {
      if (docker != null) {
        removeLeftovers();
      }
    } finally {
      Process down = new ProcessBuilder(ROOT.resolve("docker/test/engine").toString(), "down", "--for",
          String.valueOf(ProcessHandle.current().pid())).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve("engine.log").toFile())).start();
      down.waitFor(60, TimeUnit.SECONDS);
      StringBuilder lines = new StringBuilder("CONTAINER-MEASURE " + LocalDate.now() + "\n");
      measures.forEach((name, value) -> lines.append("  ").append(name).append(": ").append(value).append('\n'));
      System.out.print(lines);
      Files.writeString(work.resolve("measures.txt"), lines);
      if (lock != null) {
        lock.close();
      }
    }
  }

  @Test
  @Order(1)
  void sourceChangeRebuildsOnTheCachedDependencyLayer() throws IOException {
    Path context = work.resolve("context");
    copyContext(ROOT, context);
    Files.writeString(context.resolve("http-api/src/main/java/warmgate/node/Main.java"),
        "// ContainerIT's source change " + UUID.randomUUID() + "\n", StandardOpenOption.APPEND);
    Build changed = build(context, CHANGED);
    try {
      int dependencies = first.index("RUN mvn");
      Step before = first.steps().get(dependencies);
      Step after = changed.steps().get(dependencies);
      assertThat(after.instruction()).isEqualTo(before.instruction());
      assertThat(after.cached()).as("the dependency layer (%s) is reused after a source change", after.instruction())
          .isTrue();
      assertThat(after.id()).as("the same layer as the first build's").isEqualTo(before.id());
      Step sources = changed.steps().get(dependencies + 1);
      assertThat(sources.instruction()).isEqualTo("COPY . .");
      assertThat(sources.cached()).as("the changed sources are copied again").isFalse();
      Step compile = changed.steps().get(dependencies + 2);
      assertThat(compile.instruction()).startsWith("RUN mvn");
      assertThat(compile.cached()).as("and built again").isFalse();
      measure("build after a source change (s)", seconds(changed.took()));
    } finally {
      docker.docker(COMMAND, "rmi", CHANGED);
      if (changed.buildStage() != null) {
        docker.docker(COMMAND, "rmi", changed.buildStage());
      }
    }
  }

  @Test
  @Order(1)
  void theImageStartsItsNodesFromTheClassArchiveItWasBuiltWith() {
    // -Xshare:on: the JVM refuses to start unless it can map the archive (one made from other jars, or by another
    // JVM, would be refused), where the ENTRYPOINT's default quietly starts without it. The same throwaway start the
    // archive was recorded from, as the image's user, logging where each class came from.
    String out = docker.ok(Duration.ofMinutes(3), "run", "--rm", "--entrypoint", "java", IMAGE, "-Xshare:on",
        "-XX:SharedArchiveFile=/opt/warmgate/warmgate.jsa", "-Xlog:class+load=info", "-jar",
        "/opt/warmgate/warmgate.jar", "cds-training");
    assertThat(out).contains("A node started, answered")
        .contains("warmgate.node.Main source: shared objects file (top)")
        .contains("org.apache.pekko.actor.typed.ActorSystem source: shared objects file (top)")
        .contains("warmgate.endpoint.EndpointEntity source: shared objects file (top)");
    long archived = out.lines().filter(l -> l.endsWith("source: shared objects file (top)")).count();
    long fromJars = out.lines().filter(l -> l.contains(" source: file:/opt/warmgate/")).count();
    measure("node start: classes from the archive / from the jars", archived + " / " + fromJars);
    assertThat(fromJars).as("classes of the jars loaded from them, not the archive").isLessThan(archived / 100);
  }

  @Test
  @Order(2)
  void runsAsThePodDoesAndStopsCleanlyWithAJobInFlight() throws Exception {
    Manifests k8s = Manifests.render(ROOT.resolve("k8s"));
    Container container = k8s.container();
    PodSpec pod = k8s.deployment().getSpec().getTemplate().getSpec();
    Config podConfig = k8s.podConfig();
    Config route = podConfig.getConfigList("warmgate.routes").get(0);
    String endpoint = route.getString("endpoint");
    String bucket = route.getString("bucket");
    Config sageMakerSettings = podConfig.getConfig("warmgate.endpoints." + endpoint + ".sagemaker");
    int grace = Math.toIntExact(pod.getTerminationGracePeriodSeconds());
    // The Secret is not in the repository: the test's own, with the keys a minimal one has.
    Map<String, String> secret = Map.of("db-password", "unused-with-trust-auth",
        "auth-tokens", "{ name = ops, sha256 = \"" + Tokens.sha256Hex(TestTokens.ADMIN) + "\", admin = true }\n");

    HeldModel model = new HeldModel();
    try (Postgres db = new Postgres(); S3Server s3 = S3Server.start(bucket);
        SageMakerStandIn sageMaker = SageMakerStandIn.start(sageMakerSettings.getString("endpoint-config-name"))) {
      sageMaker.model(sageMakerSettings.getString("endpoint-name"), model);
      int httpPort = Ports.free();
      int managementPort = Ports.free();
      List<String> run = new ArrayList<>(List.of("run", "-d", "--name", POD, "--label", LABEL,
          // Its own loopback is the host's: the database, S3 and SageMaker stand-ins listen there.
          "--network", "host"));
      run.addAll(securityFlags(container.getSecurityContext(), pod.getSecurityContext()));
      run.addAll(resourceFlags(container));
      run.addAll(List.of("--stop-timeout", String.valueOf(grace)));
      run.addAll(volumeFlags(k8s, container, pod, secret));
      Map<String, String> env = podEnvironment(k8s, container, secret);
      // What only a cluster gives a pod, and what stands in here for the services it reaches:
      env.put("WARMGATE_DISCOVERY", "none"); // no Kubernetes API: a one-node cluster that joins itself
      env.put("WARMGATE_MANAGEMENT_ENABLED", "on"); // on by itself with kubernetes-api; none must ask
      env.put("WARMGATE_HTTP_PORT", String.valueOf(httpPort)); // the host's network: ports that are free there
      env.put("WARMGATE_REMOTE_PORT", String.valueOf(Ports.free()));
      env.put("WARMGATE_MANAGEMENT_PORT", String.valueOf(managementPort));
      env.put("WARMGATE_HTTP_INTERFACE", "127.0.0.1"); // and on loopback only
      env.put("WARMGATE_MANAGEMENT_BIND_HOST", "127.0.0.1");
      env.put("WARMGATE_DB_URL", db.url);
      env.put("WARMGATE_DB_USER", Postgres.USER);
      env.put("WARMGATE_S3_ENDPOINT", s3.url());
      env.put("WARMGATE_S3_PATH_STYLE", "true");
      env.put("AWS_ACCESS_KEY_ID", S3Server.ACCESS_KEY); // IRSA's part
      env.put("AWS_SECRET_ACCESS_KEY", S3Server.SECRET_KEY);
      env.put("JAVA_TOOL_OPTIONS", env.get("JAVA_TOOL_OPTIONS") + " -Dwarmgate.endpoints." + endpoint
          + ".sagemaker.endpoint-override=" + sageMaker.uri());
      env.forEach((name, value) -> run.addAll(List.of("-e", name + "=" + value)));
      run.add(IMAGE);
      String readyUrl = "http://127.0.0.1:" + managementPort + container.getReadinessProbe().getHttpGet().getPath();
      Api api = Api.at("http://127.0.0.1:" + httpPort, TestTokens.ADMIN);

      try {
        runPod(run, readyUrl, grace, api, s3, endpoint, bucket, model);
      } finally {
        model.release();
        if (docker.docker(COMMAND, "inspect", POD).ok()) {
          saveLogs(POD, "pod.log");
        }
        removeLeftovers(); // while the database, S3 and SageMaker are still there
      }
      measure("pod: model invocations for 2 jobs, one of them interrupted", String.valueOf(model.invocations.get()));
    }
  }

  /** `docker run` the pod, a job through it, a second one held in the model while SIGTERM stops the container. */
  private void runPod(List<String> run, String readyUrl, int grace, Api api, S3Server s3, String endpoint,
      String bucket, HeldModel model) throws Exception {
    long started = System.nanoTime();
    docker.ok(COMMAND, run.toArray(String[]::new));
    measure("pod: docker run to /ready (s)", seconds(awaitReady(POD, readyUrl, started)));

    String done = submit(api, endpoint, bucket, "users/alice/", "ball", s3);
    assertThat(awaitStatus(api, done, Set.of("SUCCEEDED", "FAILED"))).as(done).isEqualTo("SUCCEEDED");
    assertThat(new String(s3.get(bucket, "users/alice/output/ball.ply").orElseThrow(), StandardCharsets.US_ASCII))
        .startsWith("ply\n");

    model.hold.set(true);
    String inFlight = submit(api, endpoint, bucket, "users/alice/", "cup", s3);
    assertThat(model.held.await(JOB.toSeconds(), TimeUnit.SECONDS)).as("the second job reaches the model").isTrue();
    long stopping = System.nanoTime();
    docker.ok(Duration.ofSeconds(grace + 30), "stop", "-t", String.valueOf(grace), POD);
    Duration stop = Duration.ofNanos(System.nanoTime() - stopping);
    model.release();
    String state = docker.ok(COMMAND, "inspect", "-f", "{{.State.ExitCode}} {{.State.OOMKilled}}", POD);
    saveLogs(POD, "pod-before-restart.log");
    measure("pod: SIGTERM with a job in flight to exit (s)", seconds(stop));
    assertThat(stop).as("stopped within the grace period (%d s), not killed after it", grace)
        .isLessThan(Duration.ofSeconds(grace));
    assertThat(state).as("exit status, OOM-killed (log: pod-before-restart.log)").isEqualTo(SIGTERM_EXIT + " false");

    // The kubelet restarts a container in its pod: same container, same volumes.
    long restarted = System.nanoTime();
    docker.ok(COMMAND, "start", POD);
    measure("pod: restart to /ready (s)", seconds(awaitReady(POD, readyUrl, restarted)));
    assertThat(awaitStatus(api, inFlight, Set.of("SUCCEEDED", "FAILED"))).as(inFlight).isEqualTo("SUCCEEDED");
    assertThat(s3.get(bucket, "users/alice/output/cup.ply")).isPresent();
    for (String job : List.of(done, inFlight)) {
      List<String> events = api.eventTypes(job);
      assertThat(events.stream().filter("JobSucceeded"::equals).count()).as(job + ": " + events).isEqualTo(1);
      assertThat(events.get(events.size() - 1)).as(job + ": " + events).isEqualTo("JobSucceeded");
    }
  }

  @Test
  @Order(3)
  void composeNodesRunJobsAndOneFinishesWhatTheStoppedOneLeft() throws Exception {
    String minioPassword = UUID.randomUUID().toString();
    Map<String, String> env = Map.of(
        "WARMGATE_DB_PASSWORD", UUID.randomUUID().toString(),
        "MINIO_ROOT_PASSWORD", minioPassword,
        "WARMGATE_AUTH_TOKENS", "{ name = ops, sha256 = \"" + Tokens.sha256Hex(TestTokens.ADMIN) + "\", admin = true }",
        "WARMGATE_TOKEN", TestTokens.ADMIN);
    try {
      long started = System.nanoTime();
      compose(env, "up", "-d", "--no-build").orFail();
      Api node1 = Api.at("http://" + compose(env, "port", "warmgate-1", "8080").orFail().trim(), TestTokens.ADMIN);
      // Node 2 lives in node 1's network namespace, so its port is published on node 1's container.
      Api node2 = Api.at("http://" + compose(env, "port", "warmgate-1", "8081").orFail().trim(), TestTokens.ADMIN);
      String s3Url = "http://" + compose(env, "port", "minio", "9000").orFail().trim();
      String first = compose(env, "ps", "-q", "warmgate-1").orFail().trim();
      String second = compose(env, "ps", "-q", "warmgate-2").orFail().trim();
      Await.until(START, "both nodes to answer and form one cluster of two Up members (logs: compose.log)",
          () -> upMembers(first, 8558) == 2 && answers(node1) && answers(node2));
      measure("compose: up to a cluster of two (s)", seconds(Duration.ofNanos(System.nanoTime() - started)));

      List<String> jobs = new ArrayList<>();
      try (S3AsyncClient s3 = S3Server.client(s3Url, "warmgate", minioPassword)) {
        put(s3, "gen3d", "users/bob/input/ball_image.png", SampleImages.image(32));
        put(s3, "gen3d", "users/bob/input/ball_mask.png", SampleImages.mask(32));
        for (int i = 0; i < 8; i++) {
          jobs.add(submit(i % 2 == 0 ? node1 : node2, """
              {"endpoint":"gen3d","inputs":{"image":"s3://gen3d/users/bob/input/ball_image.png",
               "mask":"s3://gen3d/users/bob/input/ball_mask.png"},"output":"s3://gen3d/users/bob/output/ball-%d.ply"}"""
              .formatted(i)));
        }
        long unfinished = jobs.stream().filter(job -> !"SUCCEEDED".equals(node1.status(job))).count();

        long stopping = System.nanoTime();
        compose(env, "stop", "-t", "60", "warmgate-2").orFail();
        Duration stop = Duration.ofNanos(System.nanoTime() - stopping);
        measure("compose: node 2 stopped with " + unfinished + " of 8 jobs unfinished (s)", seconds(stop));
        assertThat(unfinished).as("jobs were left for node 1 to finish").isPositive();
        assertThat(docker.ok(COMMAND, "inspect", "-f", "{{.State.ExitCode}}", second))
            .isEqualTo(String.valueOf(SIGTERM_EXIT));

        for (String job : jobs) {
          assertThat(awaitStatus(node1, job, Set.of("SUCCEEDED", "FAILED"))).as(job).isEqualTo("SUCCEEDED");
          List<String> events = node1.eventTypes(job);
          assertThat(events.stream().filter("JobSucceeded"::equals).count()).as(job + ": " + events).isEqualTo(1);
        }
        for (int i = 0; i < jobs.size(); i++) {
          String key = "users/bob/output/ball-" + i + ".ply";
          assertThat(exists(s3, "gen3d", key)).as(key).isTrue();
        }
        assertThat(upMembers(first, 8558)).as("node 1 alone, node 2 gone").isEqualTo(1);
      }
    } finally {
      Files.writeString(work.resolve("compose.log"), compose(env, "logs", "--no-color").output());
      compose(env, "down", "-v", "--remove-orphans", "-t", "10");
    }
  }

  /** Answers a small PLY at once, or, while {@link #hold} is set, once {@link #release()} is called. */
  private static final class HeldModel implements SageMakerStandIn.Model {
    final AtomicBoolean hold = new AtomicBoolean();
    final CountDownLatch held = new CountDownLatch(1);
    final AtomicInteger invocations = new AtomicInteger();
    private final CountDownLatch released = new CountDownLatch(1);

    @Override
    public Reply answer(SageMakerStandIn.Invocation invocation) {
      invocations.incrementAndGet();
      if (hold.get()) {
        held.countDown();
        try {
          released.await(JOB.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return new Reply.Answer("application/octet-stream", ("ply\ncomment " + invocation.body().length
          + " bytes in\nend_header\n").getBytes(StandardCharsets.US_ASCII));
    }

    /** Later invocations answer at once, and the held one answers (to a node that is gone). */
    void release() {
      hold.set(false);
      released.countDown();
    }
  }

  // ---- The engine and its leftovers

  /** Runs docker/test/engine up for this JVM; the engine's address. Fails, loudly, when there is no engine. */
  private String engineUp() throws Exception {
    Path log = work.resolve("engine.log");
    long started = System.nanoTime();
    Process up = new ProcessBuilder(ROOT.resolve("docker/test/engine").toString(), "up", "--for",
        String.valueOf(ProcessHandle.current().pid())).redirectError(log.toFile()).start();
    up.getOutputStream().close();
    String out = new String(up.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    boolean ended = up.waitFor(ENGINE.toMinutes(), TimeUnit.MINUTES);
    String said = Files.readString(log);
    System.out.print(said);
    Matcher host = Pattern.compile("(?m)^DOCKER_HOST=(\\S+)$").matcher(out);
    if (!ended || up.exitValue() != 0 || !host.find()) {
      throw new AssertionError("NO DOCKER ENGINE: docker/test/engine up " + (ended ? "exited " + up.exitValue()
          : "did not end in " + ENGINE.toMinutes() + " minutes") + ", so the container test cannot run. It fails "
          + "rather than skips. The script said:\n" + said);
    }
    measure("engine and base images ready (s)", seconds(Duration.ofNanos(System.nanoTime() - started)));
    return host.group(1);
  }

  private void removeLeftovers() {
    for (String id : lines(docker.ok(COMMAND, "ps", "-aq", "--filter", "label=" + LABEL))) {
      docker.docker(COMMAND, "rm", "-f", "-v", id);
    }
    for (String volume : lines(docker.ok(COMMAND, "volume", "ls", "-q", "--filter", "label=" + LABEL))) {
      docker.docker(COMMAND, "volume", "rm", volume);
    }
    compose(Map.of("WARMGATE_DB_PASSWORD", "-", "MINIO_ROOT_PASSWORD", "-", "WARMGATE_AUTH_TOKENS", "-",
        "WARMGATE_TOKEN", "-"), "down", "-v", "--remove-orphans", "-t", "10");
  }

  private Docker.Result compose(Map<String, String> env, String... args) {
    List<String> command = new ArrayList<>(List.of("docker-compose", "--ansi", "never", "-p", PROJECT,
        "-f", ROOT.resolve("docker/compose.yaml").toString(),
        "-f", ROOT.resolve("docker/test/compose.s3proxy.yaml").toString()));
    command.addAll(List.of(args));
    return docker.run(START, env, command);
  }

  // ---- Builds

  private Build build(Path context, String tag) {
    Docker.Result result = docker.run(BUILD, Map.of(), List.of("docker", "build", "--network", "host",
        "-f", context.resolve("docker/Dockerfile").toString(), "-t", tag, context.toString()));
    result.orFail();
    return Build.of(result.output(), result.took());
  }

  private Optional<String> imageId(String image) {
    Docker.Result result = docker.docker(COMMAND, "image", "inspect", "-f", "{{.Id}}", image);
    return result.ok() ? Optional.of(result.output().trim()) : Optional.empty();
  }

  /** The build context as `docker build .` sees it, without build output and git's files (.dockerignore's). */
  private static void copyContext(Path from, Path to) throws IOException {
    Set<String> skipped = Set.of("target", ".git", ".cifuzz-corpus");
    Files.walkFileTree(from, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
        if (!dir.equals(from) && (skipped.contains(name) || dir.equals(from.resolve("data")))) {
          return FileVisitResult.SKIP_SUBTREE;
        }
        Files.createDirectories(to.resolve(from.relativize(dir).toString()));
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        if (!file.getFileName().toString().equals(".git")) {
          Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES);
        }
        return FileVisitResult.CONTINUE;
      }
    });
  }

  // ---- The pod

  /** The container's security context and the pod's, as `docker run` flags. */
  private static List<String> securityFlags(SecurityContext container, PodSecurityContext pod) {
    List<String> flags = new ArrayList<>();
    if (Boolean.TRUE.equals(container.getReadOnlyRootFilesystem())) {
      flags.add("--read-only");
    }
    for (String capability : container.getCapabilities().getDrop()) {
      flags.addAll(List.of("--cap-drop", capability));
    }
    if (Boolean.FALSE.equals(container.getAllowPrivilegeEscalation())) {
      flags.addAll(List.of("--security-opt", "no-new-privileges"));
    }
    flags.addAll(List.of("--user", pod.getRunAsUser() + ":" + pod.getRunAsGroup(),
        "--group-add", String.valueOf(pod.getFsGroup())));
    return flags;
  }

  /** The container's limits: memory (and no swap beyond it, as on a node without swap) and CPUs. */
  private static List<String> resourceFlags(Container container) {
    Map<String, Quantity> limits = container.getResources().getLimits();
    String memory = Quantity.getAmountInBytes(limits.get("memory")).toBigInteger().toString();
    String cpus = Quantity.getAmountInBytes(limits.get("cpu")).toPlainString();
    return List.of("--memory", memory, "--memory-swap", memory, "--cpus", cpus);
  }

  /**
   * The container's mounts: a ConfigMap's or Secret's volume as a read-only folder of its files, an emptyDir as a
   * volume of its own that lives as long as the container (as an emptyDir lives as long as the pod).
   */
  private List<String> volumeFlags(Manifests k8s, Container container, PodSpec pod, Map<String, String> secret)
      throws IOException {
    List<String> flags = new ArrayList<>();
    for (VolumeMount mount : container.getVolumeMounts()) {
      Volume volume = pod.getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst()
          .orElseThrow();
      String source;
      if (volume.getConfigMap() != null) {
        Path dir = Files.createDirectories(work.resolve("pod/" + volume.getName()));
        for (var entry : k8s.one(ConfigMap.class, volume.getConfigMap().getName()).getData().entrySet()) {
          Files.writeString(dir.resolve(entry.getKey()), entry.getValue());
        }
        source = dir.toString();
      } else if (volume.getSecret() != null) {
        Path dir = Files.createDirectories(work.resolve("pod/" + volume.getName()));
        for (KeyToPath item : volume.getSecret().getItems()) {
          Files.writeString(dir.resolve(item.getPath()), secret.get(item.getKey()));
        }
        source = dir.toString();
      } else if (volume.getEmptyDir() != null) {
        source = POD + "-" + volume.getName();
        docker.ok(COMMAND, "volume", "create", "--label", LABEL, source);
      } else {
        throw new AssertionError("volume " + volume.getName() + " is of a kind this test does not mount yet");
      }
      flags.addAll(List.of("-v", source + ":" + mount.getMountPath()
          + (Boolean.TRUE.equals(mount.getReadOnly()) ? ":ro" : "")));
    }
    return flags;
  }

  /**
   * The pod's environment: its ConfigMaps, then its own entries, a Secret's key from {@code secret} (an optional key
   * it lacks is left out, as Kubernetes leaves it), status.podIP as the host's loopback.
   */
  private static Map<String, String> podEnvironment(Manifests k8s, Container container, Map<String, String> secret) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvFromSource from : container.getEnvFrom()) {
      env.putAll(k8s.one(ConfigMap.class, from.getConfigMapRef().getName()).getData());
    }
    for (EnvVar var : container.getEnv()) {
      if (var.getValue() != null) {
        env.put(var.getName(), var.getValue());
      } else if (var.getValueFrom().getFieldRef() != null) {
        assertThat(var.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("status.podIP");
        env.put(var.getName(), "127.0.0.1");
      } else {
        SecretKeySelector key = var.getValueFrom().getSecretKeyRef();
        if (secret.containsKey(key.getKey())) {
          env.put(var.getName(), secret.get(key.getKey()));
        } else {
          assertThat(key.getOptional()).as(var.getName() + " from Secret key " + key.getKey()).isTrue();
        }
      }
    }
    return env;
  }

  /** Until {@code url} answers 200; how long since {@code sinceNanos}. Fails at once if the container ends. */
  private Duration awaitReady(String container, String url, long sinceNanos) {
    Await.until(START, url + " to answer 200 (log: " + work.resolve(container + ".log") + ")", () -> {
      if (!docker.ok(COMMAND, "inspect", "-f", "{{.State.Running}}", container).equals("true")) {
        saveLogs(container, container + ".log");
        throw new IllegalStateException(container + " ended: " + docker.ok(COMMAND, "inspect", "-f",
            "{{.State.ExitCode}}", container));
      }
      return status(url) == 200;
    });
    return Duration.ofNanos(System.nanoTime() - sinceNanos);
  }

  private int status(String url) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void saveLogs(String container, String file) {
    try {
      Files.writeString(work.resolve(file), docker.docker(COMMAND, "logs", container).output());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- Jobs

  /** Uploads an image and its mask under {@code prefix}input/ and submits their job; its id. */
  private static String submit(Api api, String endpoint, String bucket, String prefix, String base, S3Server s3)
      throws InterruptedException {
    s3.put(bucket, prefix + "input/" + base + "_image.png", SampleImages.image(32), "image/png");
    s3.put(bucket, prefix + "input/" + base + "_mask.png", SampleImages.mask(32), "image/png");
    String in = "s3://" + bucket + "/" + prefix + "input/" + base;
    return submit(api, """
        {"endpoint":"%s","inputs":{"image":"%s_image.png","mask":"%s_mask.png"},"output":"s3://%s/%soutput/%s.ply"}"""
        .formatted(endpoint, in, in, bucket, prefix, base));
  }

  /**
   * POST /v1/jobs as a client should send it: with an Idempotency-Key, and again after a 429 or 503 (a journal slow to
   * confirm on a busy machine), so that it is one job however often it is sent; the job's id.
   */
  private static String submit(Api api, String body) throws InterruptedException {
    Map<String, String> key = Map.of("Idempotency-Key", UUID.randomUUID().toString());
    long deadline = System.nanoTime() + JOB.toNanos();
    Api.Response r = api.post("/v1/jobs", body, key);
    while ((r.status() == 429 || r.status() == 503) && System.nanoTime() < deadline) {
      Thread.sleep(1_000);
      r = api.post("/v1/jobs", body, key);
    }
    assertThat(r.status()).as(String.valueOf(r.body())).isEqualTo(202);
    return r.body().path("jobId").asText();
  }

  private static String awaitStatus(Api api, String job, Set<String> statuses) {
    return Await.until(JOB, "job " + job + " to be one of " + statuses, () -> {
      String status = api.status(job);
      return statuses.contains(status) ? status : null;
    });
  }

  private static boolean answers(Api api) {
    try {
      return api.get("/v1/endpoints").status() == 200;
    } catch (UncheckedIOException e) {
      return false;
    }
  }

  /** The Up members that the node in {@code container} sees, asked on its management port from inside. */
  private int upMembers(String container, int managementPort) {
    String get = "printf 'GET /cluster/members HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && cat <&3";
    Docker.Result r = docker.docker(COMMAND, "exec", container, "bash", "-c",
        "exec 3<>/dev/tcp/127.0.0.1/" + managementPort + " && " + get);
    if (!r.ok() || !r.output().contains("\r\n\r\n")) {
      return 0;
    }
    try {
      JsonNode members = Json.mapper().readTree(r.output().substring(r.output().indexOf("\r\n\r\n") + 4));
      int up = 0;
      for (JsonNode member : members.path("members")) {
        up += member.path("status").asText().equals("Up") ? 1 : 0;
      }
      return members.path("unreachable").isEmpty() ? up : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  private static void put(S3AsyncClient s3, String bucket, String key, byte[] body) {
    s3.putObject(r -> r.bucket(bucket).key(key).contentType("image/png"), AsyncRequestBody.fromBytes(body)).join();
  }

  private static boolean exists(S3AsyncClient s3, String bucket, String key) {
    try {
      s3.headObject(r -> r.bucket(bucket).key(key)).join();
      return true;
    } catch (CompletionException e) {
      if (e.getCause() instanceof NoSuchKeyException) {
        return false;
      }
      throw e;
    }
  }

  // ---- Small things

  private void measure(String name, String value) {
    measures.put(name, value);
  }

  private static String seconds(Duration d) {
    return String.format("%.1f", d.toMillis() / 1000.0);
  }

  private static List<String> lines(String text) {
    return Arrays.stream(text.split("\n")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.delete(p);
      }
    }
  }
}
