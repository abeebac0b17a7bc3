package warmgate.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

// The packaged jar (target/warmgate.jar, its lib/ beside it) in child JVMs, as bin/run makes and uses the archive.
class ClassArchiveIT {
  private static final Path JAR = Path.of("target/warmgate.jar").toAbsolutePath();

  @TempDir Path dir;

  @Test
  void aTrainingStartRecordsAnArchiveThatTheNextStartLoadsItsClassesFrom() throws Exception {
    Path archive = dir.resolve("warmgate.jsa");

    Result training = java(List.of("-Xmx384m", "-XX:ArchiveClassesAtExit=" + archive), "cds-training");
    assertThat(training.exit()).as(training.output()).isZero();
    assertThat(training.output()).contains("A node started, answered {/v1/endpoints=200, /v1/jobs?limit=1=200, "
        + "/metrics=200} and stopped");
    assertThat(archive).isNotEmptyFile();

    // -Xshare:on fails the start unless the archive maps.
    Result again = java(List.of("-Xmx384m", "-Xshare:on", "-XX:SharedArchiveFile=" + archive,
        "-Xlog:class+load=info"), "cds-training");
    assertThat(again.exit()).as(again.output()).isZero();
    long archived = again.output().lines().filter(l -> l.endsWith("source: shared objects file (top)")).count();
    long fromJars = again.output().lines().filter(l -> l.contains(" source: file:")).count();
    assertThat(again.output()).contains("warmgate.node.Main source: shared objects file (top)")
        .contains("warmgate.http.HttpServer source: shared objects file (top)");
    assertThat(fromJars).as("of %d classes from the archive", archived).isLessThan(archived / 100);
  }

  @Test
  void aStartWithoutTheArchiveItNamesStartsAllTheSame() throws Exception {
    Result result = java(List.of("-Xmx384m", "-XX:SharedArchiveFile=" + dir.resolve("none.jsa")), "cds-training");

    assertThat(result.exit()).as(result.output()).isZero();
    assertThat(result.output()).contains("A node started, answered");
  }

  private record Result(int exit, String output) {}

  private Result java(List<String> options, String command) throws Exception {
    List<String> line = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    line.addAll(options);
    line.addAll(List.of("-jar", JAR.toString(), command));
    Path log = Files.createTempFile(dir, "java", ".log");
    Process process = new ProcessBuilder(line).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!process.waitFor(3, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new AssertionError("no exit within 3 min: " + Files.readString(log, StandardCharsets.UTF_8));
    }
    return new Result(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
  }
}
