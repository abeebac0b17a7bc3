package warmgate.e2e;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * A real SQS-compatible server, ElasticMQ, as a process of its own (it runs on a newer Pekko than Warmgate, so never in
 * the tests' JVM), on a free loopback port; and a plain SDK client for the tests to send and look with. Its classpath
 * comes from {@code http-api/src/test/elasticmq/pom.xml}, resolved once with Maven and kept in
 * {@code target/elasticmq.classpath}. Public for the benchmarks (warmgate.bench).
 */
public final class ElasticMq implements AutoCloseable {
  /** ElasticMQ's region and account in its ARNs and URLs; any credentials are accepted. */
  public static final String REGION = "elasticmq";

  public final int port;
  public final String endpoint;
  public final SqsClient sqs;
  public final Path log;
  private final Process process;

  private ElasticMq(int port, Process process, Path log) {
    this.port = port;
    this.endpoint = "http://127.0.0.1:" + port;
    this.process = process;
    this.log = log;
    this.sqs = SqsClient.builder()
        .endpointOverride(URI.create(endpoint))
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
        .build();
  }

  /** Starts the server with no queues and waits until it answers. */
  public static ElasticMq start(Path dir) throws IOException {
    Files.createDirectories(dir);
    int port = Ports.free();
    Path conf = dir.resolve("elasticmq.conf");
    Files.writeString(conf, """
        include classpath("application.conf")
        node-address { protocol = http, host = "127.0.0.1", port = %d, context-path = "" }
        rest-sqs { enabled = true, bind-port = %d, bind-hostname = "127.0.0.1", sqs-limits = strict }
        rest-stats { enabled = false }
        generate-node-address = false
        """.formatted(port, port));
    Path log = dir.resolve("elasticmq.log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process = new ProcessBuilder(java, "-Xmx1g", "-XX:+UseSerialGC", "-Dconfig.file=" + conf, "-cp",
        classpath(), "org.elasticmq.server.Main")
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
    ElasticMq server = new ElasticMq(port, process, log);
    try {
      Await.until(Duration.ofSeconds(60), "ElasticMQ to answer (log: " + log + ")", () -> {
        if (!process.isAlive()) {
          throw new IllegalStateException("ElasticMQ exited: " + server.logText());
        }
        server.sqs.listQueues();
        return true;
      });
    } catch (RuntimeException | Error e) {
      server.close();
      throw e;
    }
    return server;
  }

  /** A queue; {@code deadLetters} (may be null) takes its messages after {@code maxReceiveCount} receives. */
  public String createQueue(String name, Duration visibilityTimeout, String deadLetters, int maxReceiveCount) {
    var attributes = new java.util.HashMap<QueueAttributeName, String>();
    attributes.put(QueueAttributeName.VISIBILITY_TIMEOUT, Long.toString(visibilityTimeout.toSeconds()));
    if (deadLetters != null) {
      String arn = sqs.getQueueAttributes(b -> b.queueUrl(deadLetters).attributeNames(QueueAttributeName.QUEUE_ARN))
          .attributes().get(QueueAttributeName.QUEUE_ARN);
      attributes.put(QueueAttributeName.REDRIVE_POLICY,
          "{\"deadLetterTargetArn\":\"" + arn + "\",\"maxReceiveCount\":\"" + maxReceiveCount + "\"}");
    }
    return sqs.createQueue(b -> b.queueName(name).attributes(attributes)).queueUrl();
  }

  public String createQueue(String name) {
    return sqs.createQueue(b -> b.queueName(name)).queueUrl();
  }

  public void send(String queueUrl, String body) {
    sqs.sendMessage(b -> b.queueUrl(queueUrl).messageBody(body));
  }

  /** Messages waiting to be received, and messages received and neither deleted nor back yet. */
  public record Depth(long visible, long inFlight) {
    public long total() {
      return visible + inFlight;
    }
  }

  public Depth depth(String queueUrl) {
    Map<QueueAttributeName, String> a = sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(
        QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
        QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).attributes();
    return new Depth(Long.parseLong(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES)),
        Long.parseLong(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)));
  }

  /** Receives (and deletes) every message now visible: what a dead-letter queue holds. */
  public List<String> drain(String queueUrl) {
    List<String> bodies = new ArrayList<>();
    while (true) {
      var messages = sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10).waitTimeSeconds(0))
          .messages();
      if (messages.isEmpty()) {
        return bodies;
      }
      for (var message : messages) {
        bodies.add(message.body());
        sqs.deleteMessage(b -> b.queueUrl(queueUrl).receiptHandle(message.receiptHandle()));
      }
    }
  }

  public String logText() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** The server's classpath, resolved by Maven from the pom beside the tests (once per build folder). */
  static synchronized String classpath() throws IOException {
    Path module = Path.of("").toAbsolutePath();
    Path root = Files.exists(module.resolve("http-api")) ? module : module.getParent();
    Path pom = root.resolve("http-api/src/test/elasticmq/pom.xml");
    Path out = root.resolve("http-api/target/elasticmq.classpath");
    if (!Files.exists(out)) {
      Files.createDirectories(out.getParent());
      // Offline first (the jars are usually in the local repository already), then from Maven Central.
      if (!resolve(pom, out, true) && !resolve(pom, out, false)) {
        throw new IllegalStateException("could not resolve ElasticMQ's classpath with mvn -f " + pom);
      }
    }
    return Files.readString(out, StandardCharsets.UTF_8).trim();
  }

  private static boolean resolve(Path pom, Path out, boolean offline) throws IOException {
    Path temporary = out.resolveSibling(out.getFileName() + ".part");
    List<String> command = new ArrayList<>(List.of("mvn", "-q", "-B", "-f", pom.toString()));
    if (offline) {
      command.add("-o");
    }
    command.addAll(List.of("dependency:build-classpath", "-Dmdep.outputFile=" + temporary));
    Process mvn = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(out.resolveSibling("elasticmq.classpath.log").toFile()))
        .start();
    try {
      if (!mvn.waitFor(5, TimeUnit.MINUTES)) {
        mvn.destroyForcibly();
        return false;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    if (mvn.exitValue() != 0 || !Files.exists(temporary)) {
      return false;
    }
    Files.move(temporary, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return true;
  }

  /** The server's process id, for the benchmarks' CPU accounting. */
  public long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    sqs.close();
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
