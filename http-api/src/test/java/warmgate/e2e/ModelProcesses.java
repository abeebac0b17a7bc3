package warmgate.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Model processes outlive a node killed outright (SIGKILL), and the node's next start adopts them; a test that
 * started one ends it here so none is left behind.
 */
public final class ModelProcesses {
  private ModelProcesses() {}

  public static void killAll(Path stateDir) {
    if (!Files.isDirectory(stateDir)) {
      return;
    }
    try (Stream<Path> files = Files.list(stateDir)) {
      files.filter(f -> f.toString().endsWith(".pid")).forEach(f -> {
        try {
          long pid = Long.parseLong(Files.readString(f).trim().split("\\s+")[0]);
          ProcessHandle.of(pid).ifPresent(p -> {
            p.destroyForcibly();
            p.onExit().join();
          });
        } catch (IOException | NumberFormatException e) {
          // a half-written pid file names no process
        }
      });
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
