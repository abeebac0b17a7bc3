package warmgate.provider.process;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.Failures;
import warmgate.config.EndpointSettings;
import warmgate.endpoint.ManagedEndpoint;
import warmgate.provider.EndpointProvider;
import warmgate.provider.InferenceClient;
import warmgate.provider.InferenceException;
import warmgate.provider.Invocation;
import warmgate.provider.ProviderState;
import warmgate.provider.ProviderState.Status;
import warmgate.provider.RequestBody;
import warmgate.provider.StreamedResponse;

/**
 * An endpoint that is a local model server process speaking the SageMaker container contract
 * ({@code GET /ping}, {@code POST /invocations}).
 *
 * <p>The process is tracked by a pid file under the state folder. Unlike a SageMaker endpoint it lives on the
 * node that started it ({@link #nodeLocal}): when the node stops gracefully, the endpoint's lifecycle stops the
 * process as it leaves the node, and {@link ChildProcesses} stops any still running as the node ends. Only a
 * node killed outright (SIGKILL, a crash) leaves it running; the next node on the same state folder finds it
 * through the pid file, reports it in service and stops it when idle. The pid file also records the process
 * start time, so a recycled pid is not mistaken for our server.
 *
 * <p>A process that exits is reported FAILED with its exit code and the last line of its output that is not a
 * stack frame, e.g. {@code model process exited with code 1: address already in use (127.0.0.1:18080)}.
 *
 * <p>Settings under {@code process}: {@code command} (a list; {@code {java}}, {@code {classpath}},
 * {@code {host}} and {@code {port}} are substituted), {@code host}, {@code port}, {@code ping-path},
 * {@code invocations-path}, {@code stop-grace}, {@code ready-check-interval}.
 *
 * <p>While a process it started is starting, it pings it every {@code ready-check-interval} and tells its
 * {@linkplain #watch watchers} as soon as it serves (or exits): a loopback ping costs nothing, unlike the
 * lifecycle polling a cloud API, so the first job need not wait for the lifecycle's next poll.
 */
public final class ProcessEndpoint implements EndpointProvider, InferenceClient {
  private static final Logger log = LoggerFactory.getLogger(ProcessEndpoint.class);

  private final String name;
  private final List<String> command;
  private final String host;
  private final int port;
  private final URI ping;
  private final URI invocations;
  private final Duration stopGrace;
  private final Duration invokeTimeout;
  private final Duration readyCheckInterval;
  private final Duration startTimeout;
  private final CopyOnWriteArrayList<Consumer<String>> watchers = new CopyOnWriteArrayList<>();
  private final AtomicBoolean watchingReadiness = new AtomicBoolean();
  private final Path pidFile;
  private final Path logFile;
  private final Executor blocking;
  private final HttpClient http;
  private final ChildProcesses children;
  /** The process this object launched, if any: only it can tell its exit code; one found by pid file cannot. */
  private volatile Process launched;

  ProcessEndpoint(EndpointSettings settings, Path stateDir, Executor blocking, HttpClient http,
      ChildProcesses children) {
    Config c = settings.providerConfig();
    this.name = settings.name();
    this.host = c.getString("host");
    this.port = c.getInt("port");
    this.command = c.getStringList("command").stream().map(this::substitute).toList();
    if (command.isEmpty()) {
      throw new IllegalArgumentException("endpoint " + name + ": process.command is empty");
    }
    this.ping = URI.create("http://" + host + ":" + port + c.getString("ping-path"));
    this.invocations = URI.create("http://" + host + ":" + port + c.getString("invocations-path"));
    this.stopGrace = c.getDuration("stop-grace");
    this.invokeTimeout = settings.invokeTimeout();
    this.readyCheckInterval = c.getDuration("ready-check-interval");
    this.startTimeout = settings.startTimeout();
    this.pidFile = stateDir.resolve(name + ".pid");
    this.logFile = stateDir.resolve(name + ".log");
    this.blocking = blocking;
    this.http = http;
    this.children = children;
  }

  /**
   * @param stateDir where the pid file and the process's log live
   * @param blocking runs process launching and waiting, never an actor thread
   */
  public static ManagedEndpoint bind(EndpointSettings settings, Path stateDir, Executor blocking, HttpClient http) {
    return bind(settings, stateDir, blocking, http, ChildProcesses.NONE);
  }

  /** @param children where the processes it starts are registered, so the node stops them as it ends */
  public static ManagedEndpoint bind(EndpointSettings settings, Path stateDir, Executor blocking, HttpClient http,
      ChildProcesses children) {
    ProcessEndpoint endpoint = new ProcessEndpoint(settings, stateDir, blocking, http, children);
    return new ManagedEndpoint(settings, endpoint, endpoint);
  }

  private String substitute(String part) {
    return part.replace("{java}", javaBinary())
        .replace("{classpath}", System.getProperty("java.class.path"))
        .replace("{host}", host)
        .replace("{port}", Integer.toString(port));
  }

  private static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  // ---- EndpointProvider

  @Override
  public CompletionStage<ProviderState> describe() {
    Optional<PidRecord> record;
    try {
      record = PidRecord.read(pidFile);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (record.isEmpty()) {
      return CompletableFuture.completedFuture(new ProviderState(Status.ABSENT, "no model process"));
    }
    PidRecord pid = record.get();
    if (pid.live().isEmpty()) {
      return CompletableFuture.completedFuture(new ProviderState(Status.FAILED, exitDetail(pid)));
    }
    HttpRequest request = HttpRequest.newBuilder(ping).timeout(Duration.ofSeconds(2)).GET().build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
        .handle((response, failure) -> {
          if (failure == null && response.statusCode() == 200) {
            return new ProviderState(Status.IN_SERVICE, "model process " + pid.pid() + " serving on " + host + ":"
                + port);
          }
          String why = failure == null ? "ping answered " + response.statusCode() : "not listening yet";
          return new ProviderState(Status.CREATING, "model process " + pid.pid() + " starting (" + why + ")");
        });
  }

  @Override
  public boolean nodeLocal() {
    return true;
  }

  @Override
  public CompletionStage<Void> start() {
    return CompletableFuture.runAsync(this::launchUnlessRunning, blocking).thenRun(this::watchReadiness);
  }

  @Override
  public Watch watch(Consumer<String> changed) {
    watchers.add(changed);
    return () -> watchers.remove(changed);
  }

  /** Pings the starting process until it serves, exits or outlasts the start timeout; one such loop at a time. */
  private void watchReadiness() {
    if (!watchers.isEmpty() && watchingReadiness.compareAndSet(false, true)) {
      checkReadiness(System.nanoTime() + startTimeout.toNanos());
    }
  }

  private void checkReadiness(long deadline) {
    if (watchers.isEmpty() || System.nanoTime() > deadline) {
      watchingReadiness.set(false); // nobody listens, or the lifecycle has given the start up by now
      return;
    }
    describe().whenComplete((state, failure) -> {
      if (failure == null && state.status() != Status.CREATING) {
        watchingReadiness.set(false);
        watchers.forEach(watcher -> watcher.accept(state.status().name()));
      } else {
        CompletableFuture.delayedExecutor(readyCheckInterval.toMillis(), TimeUnit.MILLISECONDS, blocking)
            .execute(() -> checkReadiness(deadline));
      }
    });
  }

  @Override
  public CompletionStage<Void> stop() {
    return CompletableFuture.runAsync(this::terminate, blocking);
  }

  private synchronized void launchUnlessRunning() {
    try {
      Optional<PidRecord> existing = PidRecord.read(pidFile);
      if (existing.isPresent() && existing.get().live().isPresent()) {
        return; // already started, perhaps by a node that crashed since
      }
      Files.createDirectories(pidFile.getParent());
      Files.writeString(logFile, RUN_MARKER + Instant.now() + " starting " + String.join(" ", command)
          + System.lineSeparator(),
          StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
      Process process = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(nullDevice()))
          .start();
      launched = process;
      children.add(process.toHandle(), stopGrace);
      PidRecord.of(process.toHandle()).write(pidFile);
      log.info("Endpoint {}: started model process {} on {}:{} (log {})", name, process.pid(), host, port, logFile);
    } catch (IOException e) {
      throw new UncheckedIOException("could not start the model process for endpoint " + name + ": " + e.getMessage(),
          e);
    }
  }

  private synchronized void terminate() {
    try {
      Optional<PidRecord> record = PidRecord.read(pidFile);
      if (record.isEmpty()) {
        return; // already stopped
      }
      Optional<ProcessHandle> live = record.get().live();
      if (live.isPresent()) {
        ProcessHandle process = live.get();
        process.destroy();
        try {
          process.onExit().get(stopGrace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          log.warn("Endpoint {}: model process {} ignored SIGTERM for {}; killing it", name, process.pid(), stopGrace);
          process.destroyForcibly();
          process.onExit().get(stopGrace.toMillis(), TimeUnit.MILLISECONDS);
        }
        log.info("Endpoint {}: stopped model process {}", name, process.pid());
      }
      Files.deleteIfExists(pidFile);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CompletionException(e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new CompletionException("model process of endpoint " + name + " did not exit", e);
    }
  }

  /** {@code model process exited with code 1: address already in use (127.0.0.1:18080)}. */
  private String exitDetail(PidRecord pid) {
    Process process = launched;
    String exited = process != null && process.pid() == pid.pid() && reaped(process)
        ? "model process exited with code " + process.exitValue()
        : "model process " + pid.pid() + " exited";
    return exited + ": " + lastWords();
  }

  /** Dead by its pid but not yet reaped by the JDK, it has no exit code for a moment; worth a short wait. */
  private static boolean reaped(Process process) {
    try {
      return process.waitFor(200, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The last line of the latest run's output that is not a stack frame: the exception, or the process's own word. */
  private String lastWords() {
    try {
      if (!Files.exists(logFile)) {
        return "(no log)";
      }
      return lastWords(Files.readAllLines(logFile, StandardCharsets.UTF_8));
    } catch (IOException | UncheckedIOException e) {
      return "(log unreadable: " + e.getMessage() + ")";
    }
  }

  static String lastWords(List<String> log) {
    for (int i = log.size() - 1; i >= 0; i--) {
      String line = log.get(i).strip();
      if (line.startsWith(RUN_MARKER)) {
        break; // an earlier run's output says nothing about this one
      }
      if (!line.isEmpty() && !STACK_FRAME.matcher(line).matches()) {
        return line;
      }
    }
    return "(no output)";
  }

  private static final String RUN_MARKER = "---- ";
  /** {@code at a.b.C.m(C.java:1)}, {@code ... 3 more}, and the {@code Caused by} lines below the exception itself. */
  private static final java.util.regex.Pattern STACK_FRAME = java.util.regex.Pattern.compile(
      "(at .+|\\.\\.\\. \\d+ (more|common frames omitted)|Caused by: .+|Suppressed: .+)");

  private static java.io.File nullDevice() {
    return new java.io.File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
  }

  // ---- InferenceClient

  @Override
  public CompletionStage<InferenceResponse> invoke(String contentType, byte[] body) {
    HttpRequest request = HttpRequest.newBuilder(invocations)
        .timeout(invokeTimeout)
        .header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray())
        .handle((response, failure) -> {
          if (failure != null) {
            throw classify(failure);
          }
          int status = response.statusCode();
          if (status >= 200 && status < 300) {
            String type = response.headers().firstValue("Content-Type").orElse("application/octet-stream");
            return new InferenceResponse(response.body(), type);
          }
          String message = "endpoint " + name + " answered " + status + ": " + preview(response.body());
          boolean permanent = status >= 400 && status < 500 && status != 408 && status != 429;
          throw new InferenceException(permanent ? InferenceException.Kind.PERMANENT
              : InferenceException.Kind.TRANSIENT, message);
        });
  }

  /**
   * The request is sent as it is read from {@code body} (with its length as {@code Content-Length}), and a
   * successful answer is handed over unread, for the caller to stream where it goes: neither is ever whole in
   * memory. An error answer is read, its first 500 bytes kept for the reason.
   */
  @Override
  public CompletionStage<StreamedResponse> invokeStreamed(Invocation invocation, RequestBody body) {
    HttpRequest request = HttpRequest.newBuilder(invocations)
        .timeout(invokeTimeout)
        .header("Content-Type", invocation.contentType())
        .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> {
          try {
            return body.open();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }), body.length()))
        .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream())
        .handle((response, failure) -> {
          if (failure != null) {
            throw classify(failure);
          }
          int status = response.statusCode();
          if (status >= 200 && status < 300) {
            String type = response.headers().firstValue("Content-Type").orElse("application/octet-stream");
            long length = response.headers().firstValueAsLong("Content-Length").orElse(-1);
            return new StreamedResponse(response.body(), length, type);
          }
          byte[] head;
          try (InputStream in = response.body()) {
            head = in.readNBytes(500);
          } catch (IOException e) {
            head = new byte[0];
          }
          String message = "endpoint " + name + " answered " + status + ": " + preview(head);
          boolean permanent = status >= 400 && status < 500 && status != 408 && status != 429;
          throw new InferenceException(permanent ? InferenceException.Kind.PERMANENT
              : InferenceException.Kind.TRANSIENT, message);
        });
  }

  private InferenceException classify(Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    if (cause instanceof VirtualMachineError fatal) {
      throw fatal; // the node failed, not the call
    }
    if (cause instanceof HttpConnectTimeoutException || cause instanceof ConnectException) {
      return new InferenceException(InferenceException.Kind.TRANSIENT, "endpoint " + name + " is not reachable on "
          + host + ":" + port, cause);
    }
    if (cause instanceof HttpTimeoutException) {
      return new InferenceException(InferenceException.Kind.TRANSIENT, "endpoint " + name + " did not answer within "
          + invokeTimeout.toSeconds() + " s", cause);
    }
    return new InferenceException(InferenceException.Kind.TRANSIENT, "calling endpoint " + name + " failed: " + cause,
        cause);
  }

  private static String preview(byte[] body) {
    String text = new String(body, 0, Math.min(body.length, 500), StandardCharsets.UTF_8);
    return text.isBlank() ? "(empty body)" : text;
  }

  /** The pid file: which process we started, and when it started, so a reused pid is not taken for ours. */
  record PidRecord(long pid, long startedAtMillis) {
    static PidRecord of(ProcessHandle process) {
      return new PidRecord(process.pid(), process.info().startInstant().map(Instant::toEpochMilli).orElse(0L));
    }

    static Optional<PidRecord> read(Path file) throws IOException {
      if (!Files.exists(file)) {
        return Optional.empty();
      }
      String[] parts = Files.readString(file, StandardCharsets.UTF_8).trim().split("\\s+");
      if (parts.length < 2) {
        return Optional.empty(); // torn write: the process it named was never recorded as started
      }
      return Optional.of(new PidRecord(Long.parseLong(parts[0]), Long.parseLong(parts[1])));
    }

    void write(Path file) throws IOException {
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, pid + " " + startedAtMillis + System.lineSeparator(), StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    Optional<ProcessHandle> live() {
      return ProcessHandle.of(pid)
          .filter(ProcessHandle::isAlive)
          .filter(p -> startedAtMillis == 0
              || p.info().startInstant().map(Instant::toEpochMilli).orElse(0L) == startedAtMillis);
    }
  }

  /** For tests and logs. */
  public List<String> command() {
    return new ArrayList<>(command);
  }
}
