package warmgate.provider.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import warmgate.config.EndpointSettings;
import warmgate.demo.SampleImages;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.provider.InferenceException;
import warmgate.provider.ProviderState;
import warmgate.provider.ProviderState.Status;

// Real processes: launches the demo model server as a child JVM and talks HTTP to it on loopback.
class ProcessEndpointTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private final ExecutorService blocking = Executors.newCachedThreadPool();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  @TempDir Path stateDir;
  private ManagedEndpoint endpoint;

  @AfterEach
  void cleanUp() {
    if (endpoint != null) {
      endpoint.provider().stop().toCompletableFuture().join();
    }
    blocking.shutdownNow();
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private ManagedEndpoint bind(List<String> command) throws IOException {
    return bind(command, freePort());
  }

  static ManagedEndpoint bind(List<String> command, int port, Path stateDir, java.util.concurrent.Executor blocking,
      HttpClient http,
      Duration startTimeout, Duration statusPollInterval) {
    var providerConfig = ConfigFactory.parseString("""
        host = "127.0.0.1"
        ping-path = "/ping"
        invocations-path = "/invocations"
        stop-grace = 5s
        ready-check-interval = 50ms
        """)
        .withValue("port", ConfigValueFactory.fromAnyRef(port))
        .withValue("command", ConfigValueFactory.fromIterable(command));
    var settings = new EndpointSettings("demo", "process", 2, 100, Duration.ofMinutes(5), startTimeout, 1,
        Duration.ZERO,
        Duration.ofMinutes(1), statusPollInterval, statusPollInterval, Duration.ofSeconds(20), providerConfig);
    return ProcessEndpoint.bind(settings, stateDir, blocking, http);
  }

  private ManagedEndpoint bind(List<String> command, int port) {
    return bind(command, port, stateDir, blocking, http, Duration.ofMinutes(2), Duration.ofMillis(100));
  }

  static List<String> demoModel(String startupDelay) {
    return List.of("{java}", "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", "{classpath}",
        "warmgate.demo.DemoModelServer",
        "--port", "{port}", "--startup-delay", startupDelay);
  }

  private ProviderState describe(ManagedEndpoint e) {
    return e.provider().describe().toCompletableFuture().join();
  }

  private ProviderState awaitStatus(ManagedEndpoint e, Status status) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    ProviderState state = describe(e);
    while (state.status() != status && System.nanoTime() < deadline) {
      Thread.sleep(100);
      state = describe(e);
    }
    assertThat(state.status()).as(state.detail()).isEqualTo(status);
    return state;
  }

  @Test
  void startsTheModelProcessWhichComesIntoServiceAfterItsColdStart() throws Exception {
    endpoint = bind(demoModel("1s"));
    assertThat(describe(endpoint).status()).isEqualTo(Status.ABSENT);

    endpoint.provider().start().toCompletableFuture().join();

    assertThat(describe(endpoint).status()).isEqualTo(Status.CREATING);
    assertThat(awaitStatus(endpoint, Status.IN_SERVICE).detail()).contains("serving");
  }

  @Test
  void tellsItsWatchersAsSoonAsTheProcessItStartedServes() throws Exception {
    endpoint = bind(demoModel("1s"));
    List<String> told = new CopyOnWriteArrayList<>();
    endpoint.provider().watch(told::add);

    endpoint.provider().start().toCompletableFuture().join();

    long deadline = System.nanoTime() + WAIT.toNanos();
    while (told.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(told).containsExactly("IN_SERVICE");
    assertThat(describe(endpoint).status()).isEqualTo(Status.IN_SERVICE);
  }

  @Test
  void startingTwiceKeepsTheOneProcess() throws Exception {
    endpoint = bind(demoModel("0s"));
    endpoint.provider().start().toCompletableFuture().join();
    String pidBefore = Files.readString(stateDir.resolve("demo.pid"));

    endpoint.provider().start().toCompletableFuture().join();

    assertThat(Files.readString(stateDir.resolve("demo.pid"))).isEqualTo(pidBefore);
  }

  @Test
  void invokesTheModelAndClassifiesItsRefusalAsPermanent() throws Exception {
    endpoint = bind(demoModel("0s"));
    endpoint.provider().start().toCompletableFuture().join();
    awaitStatus(endpoint, Status.IN_SERVICE);
    String body = "{\"image\":\"" + java.util.Base64.getEncoder().encodeToString(SampleImages.image(16))
        + "\",\"mask\":\"" + java.util.Base64.getEncoder().encodeToString(SampleImages.mask(16)) + "\"}";

    var response = endpoint.client().invoke("application/json",
        body.getBytes(StandardCharsets.UTF_8)).toCompletableFuture().join();

    assertThat(new String(response.body(), StandardCharsets.US_ASCII)).startsWith("ply\n");
    assertThatThrownBy(() -> endpoint.client().invoke("application/json",
        "{}".getBytes(StandardCharsets.UTF_8)).toCompletableFuture().join())
        .isInstanceOf(CompletionException.class)
        .cause()
        .isInstanceOfSatisfying(InferenceException.class, e -> {
          assertThat(e.kind()).isEqualTo(InferenceException.Kind.PERMANENT);
          assertThat(e.getMessage()).contains("400").contains("field 'image'");
        });
  }

  @Test
  void invokeStreamedSendsTheBodyWithItsContentLengthAndHandsTheAnswerOverUnreadToStreamToTheOutput()
      throws Exception {
    int modelPort = freePort();
    try (Relay relay = new Relay(modelPort)) {
      // The endpoint talks to the relay, which passes every byte to the demo model and keeps the request heads.
      endpoint = bind(List.of("{java}", "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", "{classpath}",
          "warmgate.demo.DemoModelServer", "--port", Integer.toString(modelPort), "--startup-delay", "0s"),
          relay.port());
      endpoint.provider().start().toCompletableFuture().join();
      awaitStatus(endpoint, Status.IN_SERVICE);
      // An image padded to 24 MB, 32 MB in base64: past half the demo model's 64 MiB heap.
      Path image = warmgate.demo.PaddedPng.write(stateDir.resolve("image.png"), 48, 24L << 20);
      Path request = stateDir.resolve("request.json");
      try (var out = new java.io.BufferedOutputStream(Files.newOutputStream(request), 1 << 16)) {
        out.write("{\"image\":\"".getBytes(StandardCharsets.US_ASCII));
        try (var encoded = java.util.Base64.getEncoder().wrap(new java.io.FilterOutputStream(out) {
          @Override
          public void close() throws IOException {
            flush(); // the padding is written on close; the JSON goes on after it
          }
        })) {
          Files.copy(image, encoded);
        }
        out.write(("\",\"mask\":\"" + java.util.Base64.getEncoder().encodeToString(SampleImages.mask(48)) + "\"}")
            .getBytes(StandardCharsets.US_ASCII));
      }
      long length = Files.size(request);
      java.util.concurrent.atomic.AtomicLong read = new java.util.concurrent.atomic.AtomicLong();
      java.util.concurrent.atomic.AtomicInteger opened = new java.util.concurrent.atomic.AtomicInteger();
      warmgate.provider.RequestBody body = new warmgate.provider.RequestBody() {
        @Override
        public long length() {
          return length;
        }

        @Override
        public java.io.InputStream open() throws IOException {
          opened.incrementAndGet();
          return new java.io.FilterInputStream(Files.newInputStream(request)) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
              int n = super.read(b, off, len);
              read.addAndGet(Math.max(n, 0));
              return n;
            }
          };
        }
      };

      warmgate.provider.StreamedResponse response = endpoint.client()
          .invokeStreamed(new warmgate.provider.Invocation("job-1", 1, "application/json", new byte[0]), body)
          .toCompletableFuture().join();
      Path output = stateDir.resolve("out.ply");
      try (var in = response.body()) {
        Files.copy(in, output);
      }

      String head = relay.requestHead("POST /invocations");
      assertThat(head).as("the length is known before the first byte")
          .containsIgnoringCase("content-length: " + length)
          .doesNotContainIgnoringCase("transfer-encoding");
      assertThat(opened.get()).as("the body is opened once").isEqualTo(1);
      assertThat(read.get()).as("and read to its end").isEqualTo(length);
      assertThat(response.contentType()).isEqualTo("application/octet-stream");
      assertThat(response.length()).as("the answer's Content-Length").isPositive().isEqualTo(Files.size(output));
      String ply = Files.readString(output, StandardCharsets.US_ASCII);
      assertThat(ply).startsWith("ply\n");
      assertThat(ply.lines().filter(l -> l.startsWith("element vertex ")).findFirst().orElseThrow())
          .as("the padded image decodes to its pixels").matches("element vertex \\d{3,}");
    }
  }

  /**
   * Passes TCP through to the model on loopback and keeps the first 256 KiB each client sends on a connection,
   * enough for the request heads (a POST's head comes before its body).
   */
  private static final class Relay implements AutoCloseable {
    private static final int KEPT = 256 * 1024;
    private final java.net.ServerSocket server = new java.net.ServerSocket(0, 50,
        java.net.InetAddress.getLoopbackAddress());
    private final int target;
    private final List<java.io.ByteArrayOutputStream> sent = new CopyOnWriteArrayList<>();
    private final ExecutorService pumps = Executors.newCachedThreadPool();

    Relay(int target) throws IOException {
      this.target = target;
      pumps.execute(this::accept);
    }

    int port() {
      return server.getLocalPort();
    }

    private void accept() {
      while (!server.isClosed()) {
        java.net.Socket client;
        try {
          client = server.accept();
        } catch (IOException e) {
          return; // closed
        }
        try {
          java.net.Socket model = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), target);
          java.io.ByteArrayOutputStream kept = new java.io.ByteArrayOutputStream();
          sent.add(kept);
          pumps.execute(() -> pump(client, model, kept));
          pumps.execute(() -> pump(model, client, null));
        } catch (IOException e) {
          closeQuietly(client); // the model is not listening yet: the client sees its connection closed
        }
      }
    }

    private static void pump(java.net.Socket from, java.net.Socket to, java.io.ByteArrayOutputStream kept) {
      byte[] buffer = new byte[64 * 1024];
      try (from; to) {
        var in = from.getInputStream();
        var out = to.getOutputStream();
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
          if (kept != null && kept.size() < KEPT) {
            synchronized (kept) {
              kept.write(buffer, 0, Math.min(n, KEPT - kept.size()));
            }
          }
          out.write(buffer, 0, n);
        }
      } catch (IOException e) {
        // the other side closed
      }
    }

    private static void closeQuietly(java.net.Socket socket) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // nothing more to do with it
      }
    }

    /** The head of the first request that starts with {@code requestLine}. */
    String requestHead(String requestLine) {
      for (java.io.ByteArrayOutputStream kept : sent) {
        String text;
        synchronized (kept) {
          text = kept.toString(StandardCharsets.ISO_8859_1);
        }
        int start = text.indexOf(requestLine);
        if (start >= 0) {
          int end = text.indexOf("\r\n\r\n", start);
          return text.substring(start, end < 0 ? text.length() : end);
        }
      }
      throw new AssertionError("no request " + requestLine + " went through the relay");
    }

    @Override
    public void close() throws IOException {
      server.close();
      pumps.shutdownNow();
    }
  }

  @Test
  void invokingAnEndpointThatIsNotListeningIsTransient() throws Exception {
    endpoint = bind(demoModel("0s"));

    assertThatThrownBy(() -> endpoint.client().invoke("application/json", new byte[0]).toCompletableFuture().join())
        .cause()
        .isInstanceOfSatisfying(InferenceException.class,
            e -> assertThat(e.kind()).isEqualTo(InferenceException.Kind.TRANSIENT));
  }

  @Test
  void stopTerminatesTheProcessAndIsIdempotent() throws Exception {
    endpoint = bind(demoModel("0s"));
    endpoint.provider().start().toCompletableFuture().join();
    long pid = Long.parseLong(Files.readString(stateDir.resolve("demo.pid")).trim().split(" ")[0]);

    endpoint.provider().stop().toCompletableFuture().join();
    endpoint.provider().stop().toCompletableFuture().join();

    assertThat(describe(endpoint).status()).isEqualTo(Status.ABSENT);
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
  }

  @Test
  void aNewNodeFindsTheRunningProcessOfOneThatCrashedAndCanStopIt() throws Exception {
    ManagedEndpoint crashedNode = bind(demoModel("0s"));
    crashedNode.provider().start().toCompletableFuture().join();
    awaitStatus(crashedNode, Status.IN_SERVICE);

    endpoint = ProcessEndpoint.bind(crashedNode.settings(), stateDir, blocking, http);

    assertThat(describe(endpoint).status()).isEqualTo(Status.IN_SERVICE);
    endpoint.provider().stop().toCompletableFuture().join();
    assertThat(describe(crashedNode).status()).isEqualTo(Status.ABSENT);
  }

  @Test
  void aProcessThatDiesIsReportedFailedWithTheEndOfItsLog() throws Exception {
    endpoint = bind(List.of("{java}", "-cp", "{classpath}", "warmgate.demo.DemoModelServer", "--no-such-option"));
    endpoint.provider().start().toCompletableFuture().join();

    ProviderState state = awaitStatus(endpoint, Status.FAILED);

    assertThat(state.detail()).contains("exited").contains("unknown option --no-such-option");
    endpoint.provider().stop().toCompletableFuture().join();
    assertThat(describe(endpoint).status()).isEqualTo(Status.ABSENT);
  }

  @Test
  void aModelThatCannotBindItsPortIsReportedInOneLineWithItsExitCode() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      endpoint = bind(demoModel("0s"), taken.getLocalPort());
      endpoint.provider().start().toCompletableFuture().join();

      ProviderState state = awaitStatus(endpoint, Status.FAILED);

      assertThat(state.detail())
          .isEqualTo("model process exited with code 1: address already in use (127.0.0.1:" + taken.getLocalPort()
              + ")");
    }
  }

  @Test
  void theLastWordsOfADeadProcessAreItsExceptionNotItsStackFrames() {
    List<String> log = List.of(
        "---- 2026-01-01T00:00:00Z starting java ...",
        "an earlier run's line",
        "---- 2026-01-01T00:01:00Z starting java ...",
        "Exception in thread \"main\" java.lang.IllegalStateException: no weights in /models/gen3d",
        "\tat warmgate.demo.DemoModelServer.main(DemoModelServer.java:1)",
        "Caused by: java.io.FileNotFoundException: /models/gen3d",
        "\tat java.base/java.io.FileInputStream.open0(Native Method)",
        "\t... 3 more",
        "");

    assertThat(ProcessEndpoint.lastWords(log))
        .isEqualTo("Exception in thread \"main\" java.lang.IllegalStateException: no weights in /models/gen3d");
    assertThat(ProcessEndpoint.lastWords(List.of("---- starting", "   "))).isEqualTo("(no output)");
  }
}
