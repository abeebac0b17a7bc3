package warmgate.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One benchmark's result as a Markdown table, printed and written to {@code bench/target/results/<name>.md}, so
 * a run's figures can be copied into docs/benchmarks.md as they were printed. The header names the machine
 * (cores, max heap, Java) because every figure depends on it.
 */
public final class Report {
  private final String name;
  private final List<String> columns;
  private final List<List<String>> rows = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

  public Report(String name, String... columns) {
    this.name = name;
    this.columns = List.of(columns);
  }

  public Report row(Object... cells) {
    if (cells.length != columns.size()) {
      throw new IllegalArgumentException(name + ": " + cells.length + " cells for " + columns.size() + " columns");
    }
    List<String> row = new ArrayList<>();
    for (Object cell : cells) {
      row.add(String.valueOf(cell));
    }
    rows.add(row);
    return this;
  }

  /** A line under the table: what was run, with which settings, and anything the figures need to be read right. */
  public Report note(String line) {
    notes.add(line);
    return this;
  }

  public String markdown() {
    StringBuilder md = new StringBuilder();
    md.append("<!-- ").append(name).append(", ").append(Instant.now()).append(", ")
        .append(Runtime.getRuntime().availableProcessors()).append(" cores, -Xmx")
        .append(Runtime.getRuntime().maxMemory() >> 20).append("m, Java ").append(Runtime.version()).append(" -->\n");
    md.append("| ").append(String.join(" | ", columns)).append(" |\n");
    md.append("|").append("---|".repeat(columns.size())).append("\n");
    for (List<String> row : rows) {
      md.append("| ").append(String.join(" | ", row)).append(" |\n");
    }
    for (String note : notes) {
      md.append("\n").append(note).append("\n");
    }
    return md.toString();
  }

  /** Prints the table and writes it under {@code target/results} of the working directory. */
  public void publish() {
    String md = markdown();
    System.out.println();
    System.out.println(md);
    try {
      Path dir = Path.of(System.getProperty("warmgate.bench.results", "bench/target/results"));
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(name + ".md"), md);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
