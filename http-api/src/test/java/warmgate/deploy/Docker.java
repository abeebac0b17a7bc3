package warmgate.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@code docker} and {@code docker-compose} command lines against one engine, each run to its end with its
 * output (stdout and stderr together) returned, and written with the command to a log file.
 */
final class Docker {
  /** What a command printed, and how it ended. */
  record Result(List<String> command, int exit, String output, Duration took) {
    boolean ok() {
      return exit == 0;
    }

    /** The output of a command that must succeed. */
    String orFail() {
      if (exit != 0) {
        throw new AssertionError(String.join(" ", command) + " exited " + exit + ":\n" + output);
      }
      return output;
    }
  }

  private final String host;
  private final Path log;

  Docker(String host, Path log) {
    this.host = host;
    this.log = log;
  }

  /** {@code docker ARGS...}, which must succeed within {@code timeout}; its output, trimmed. */
  String ok(Duration timeout, String... args) {
    return run(timeout, Map.of(), prepend("docker", args)).orFail().trim();
  }

  /** {@code docker ARGS...}, whatever its exit. */
  Result docker(Duration timeout, String... args) {
    return run(timeout, Map.of(), prepend("docker", args));
  }

  /**
   * {@code command} with DOCKER_HOST set to this engine, {@code env} added to the environment, and the legacy builder
   * (DOCKER_BUILDKIT=0), whose output names each step and whether its layer came from the cache.
   */
  Result run(Duration timeout, Map<String, String> env, List<String> command) {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("DOCKER_HOST", host);
    builder.environment().put("DOCKER_BUILDKIT", "0");
    builder.environment().putAll(env);
    Instant start = Instant.now();
    try {
      Process process = builder.start();
      process.getOutputStream().close();
      CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        throw new AssertionError(String.join(" ", command) + " did not end within " + timeout.toSeconds() + " s:\n"
            + output.getNow(""));
      }
      Result result = new Result(command, process.exitValue(), output.get(30, TimeUnit.SECONDS),
          Duration.between(start, Instant.now()));
      record(result);
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("reading the output of " + command, e);
    }
  }

  static List<String> prepend(String first, String... rest) {
    List<String> command = new ArrayList<>();
    command.add(first);
    command.addAll(List.of(rest));
    return command;
  }

  private static String readAll(InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void record(Result result) {
    try {
      Files.writeString(log, "$ " + String.join(" ", result.command()) + "   # exit " + result.exit() + " after "
          + result.took().toMillis() + " ms\n" + result.output() + "\n", StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
