package warmgate.reliability;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import warmgate.e2e.Folders;
import warmgate.e2e.Ports;

/**
 * A PostgreSQL server of the test's own, made with {@code initdb} from the binaries of the machine's server (the one
 * the test command starts), so that a test can stop it for real without taking the database from the tests beside
 * it. Its data folder is under the system's temporary folder, where the server's user can reach it; as root, the
 * server's commands run as {@code postgres} (PostgreSQL refuses to run as root). {@code WARMGATE_TEST_PG_BIN} names
 * another folder of binaries.
 */
final class OwnPostgres implements AutoCloseable {
  static final String USER = "postgres";
  static final String DATABASE = "warmgate";
  private static final String SERVER_USER = "postgres";
  private static final long COMMAND_TIMEOUT_SECONDS = 120;

  /** How {@code pg_ctl stop} ends the server. */
  enum Stop {
    /** Sessions end with {@code FATAL 57P01}, the server writes a checkpoint and exits cleanly. */
    FAST,
    /** Every process quits at once, as in a crash: the next start replays the write-ahead log. */
    IMMEDIATE
  }

  final int port;
  final String url;
  private final Path bin;
  private final Path folder;
  private final Path data;
  private final Path log;
  private final boolean root;
  /** Stops the server if the test JVM exits without closing it (a timeout, Ctrl-C), so no server outlives the run. */
  private final Thread onExit = new Thread(this::stopAndDelete, "own-postgres-exit");

  private OwnPostgres(Path bin, Path folder, int port, boolean root) {
    this.bin = bin;
    this.folder = folder;
    this.data = folder.resolve("data");
    this.log = folder.resolve("server.log");
    this.port = port;
    this.root = root;
    this.url = "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE;
  }

  /** initdb, start, and an empty database {@value #DATABASE}. */
  static OwnPostgres create() throws Exception {
    Path folder = Files.createTempDirectory("warmgate-pg-");
    boolean root = "root".equals(System.getProperty("user.name"));
    OwnPostgres pg = new OwnPostgres(binaries(), folder, Ports.free(), root);
    Runtime.getRuntime().addShutdownHook(pg.onExit);
    try {
      if (root) {
        pg.run(List.of("chown", "-R", SERVER_USER + ":", folder.toString()), false);
      }
      pg.run(List.of(pg.bin.resolve("initdb").toString(), "-D", pg.data.toString(), "-U", USER, "--auth=trust",
          "-E", "UTF8", "--no-sync"), true);
      pg.start();
      try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.port + "/postgres", USER, "");
          Statement s = c.createStatement()) {
        s.execute("CREATE DATABASE " + DATABASE);
      }
      return pg;
    } catch (Exception e) {
      pg.close();
      throw e;
    }
  }

  Connection connect() throws SQLException {
    return DriverManager.getConnection(url, USER, "");
  }

  /** {@code pg_ctl stop} in the given mode, waiting until the server has exited. */
  void stop(Stop mode) throws IOException, InterruptedException {
    pgCtl(List.of("-m", mode.name().toLowerCase(Locale.ROOT), "stop"));
  }

  /** {@code pg_ctl start} on the same port and data, waiting until it accepts connections. */
  void start() throws IOException, InterruptedException {
    // The socket folder is the server's own, so nothing is shared with the machine's server in /var/run/postgresql.
    pgCtl(List.of("-l", log.toString(), "-t", "60", "-o",
        "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + folder
            + " -c max_connections=150",
        "start"));
  }

  private void pgCtl(List<String> args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-w"));
    command.addAll(args);
    run(command, true);
  }

  /** Stops the server at once and deletes its folder. */
  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(onExit);
    } catch (IllegalStateException exiting) {
      return; // the hook is running, or about to, and does the same
    }
    stopAndDelete();
  }

  private void stopAndDelete() {
    try {
      if (Files.exists(data.resolve("postmaster.pid"))) {
        stop(Stop.IMMEDIATE);
      }
    } catch (IOException | InterruptedException | RuntimeException e) {
      System.err.println("OwnPostgres: could not stop the server in " + data + ": " + e.getMessage());
    }
    try {
      Folders.deleteTree(folder);
    } catch (IOException e) {
      System.err.println("OwnPostgres: could not delete " + folder + ": " + e.getMessage());
    }
  }

  /** The last lines of the server's log, for a failure message. */
  String logTail() {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no server log: " + e.getMessage() + ")";
    }
  }

  private void run(List<String> command, boolean asServerUser) throws IOException, InterruptedException {
    List<String> full = new ArrayList<>();
    if (asServerUser && root) {
      full.addAll(List.of("runuser", "-u", SERVER_USER, "--"));
    }
    full.addAll(command);
    Path out = Files.createTempFile("warmgate-pg-command-", ".out");
    try {
      Process p = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(out.toFile()).start();
      if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", full) + " did not finish in " + COMMAND_TIMEOUT_SECONDS + " s");
      }
      if (p.exitValue() != 0) {
        throw new IOException(String.join(" ", full) + " exited with " + p.exitValue() + ":\n"
            + Files.readString(out, StandardCharsets.UTF_8) + "\nserver log:\n" + logTail());
      }
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** The newest server version's binaries under /usr/lib/postgresql (Debian's layout), or WARMGATE_TEST_PG_BIN. */
  private static Path binaries() throws IOException {
    String configured = System.getenv("WARMGATE_TEST_PG_BIN");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    Path versions = Path.of("/usr/lib/postgresql");
    try (Stream<Path> dirs = Files.list(versions)) {
      return dirs.map(d -> d.resolve("bin"))
          .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
          .max(Comparator.comparingInt(b -> versionOf(b.getParent())))
          .orElseThrow(() -> new IOException("no PostgreSQL server binaries (initdb, pg_ctl) under " + versions
              + "; set WARMGATE_TEST_PG_BIN"));
    }
  }

  private static int versionOf(Path dir) {
    try {
      return Integer.parseInt(dir.getFileName().toString());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
