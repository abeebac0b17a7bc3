package warmgate.bench.ingest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The baseline: PostgreSQL's own {@code pgbench} running a custom script, each transaction one event row into
 * {@code event_journal} and its row in {@code event_tag}, the two rows pekko-persistence-jdbc writes for one
 * Warmgate event, with a real event's payload.
 */
final class PgBench {
  private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");
  private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");
  private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");

  /** One pgbench run: transactions per second, transactions committed, transactions failed. */
  record Result(double tps, long processed, long failed) {}

  /** A sample event as Warmgate stored it, copied into the script so the baseline writes the same row. */
  record SampleEvent(String writer, int serId, String serManifest, String payloadHex, String tag) {}

  static String executable() {
    Path debian = Path.of("/usr/lib/postgresql/15/bin/pgbench");
    return Files.isExecutable(debian) ? debian.toString() : "pgbench";
  }

  /** One row in each table per transaction; a new persistence id per row, as every notification is a new job. */
  static String script(SampleEvent e) {
    return "WITH e AS (INSERT INTO event_journal (persistence_id, sequence_number, deleted, writer, write_timestamp,"
        + " adapter_manifest, "
        + "event_ser_id, event_ser_manifest, event_payload) VALUES ('Request|s3-' || replace(gen_random_uuid()::text"
            + ", '-', ''), 1, false, "
        + "'" + e.writer() + "', (extract(epoch from clock_timestamp()) * 1000)::bigint, '', " + e.serId() + ", '"
            + e.serManifest()
        + "', '\\x" + e.payloadHex() + "'::bytea) RETURNING ordering) "
        + "INSERT INTO event_tag (event_id, tag) SELECT ordering, '" + e.tag() + "' FROM e;\n";
  }

  static Process start(Path script, String host, int port, String user, String database, int clients, int seconds)
      throws IOException {
    List<String> command = new ArrayList<>(List.of(executable(), "-n", "-h", host, "-p", String.valueOf(port), "-U",
        user,
        "-c", String.valueOf(clients), "-j", String.valueOf(Math.min(clients, 2)), "-T", String.valueOf(seconds),
        "-f", script.toString(), database));
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }

  static Result finish(Process p) throws IOException, InterruptedException {
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int code = p.waitFor();
    Matcher tps = TPS.matcher(out);
    Matcher processed = PROCESSED.matcher(out);
    if (code != 0 || !tps.find() || !processed.find()) {
      throw new IllegalStateException("pgbench failed (exit " + code + "): " + p.info().commandLine().orElse("pgbench")
          + "\n" + out);
    }
    Matcher failed = FAILED.matcher(out);
    return new Result(Double.parseDouble(tps.group(1)), Long.parseLong(processed.group(1)), failed.find()
        ? Long.parseLong(failed.group(1)) : 0);
  }
}
