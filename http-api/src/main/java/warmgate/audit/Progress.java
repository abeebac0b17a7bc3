package warmgate.audit;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The progress of an export on stderr: on a terminal, the number of events first, then a bar redrawn in
 * place with its percentage and pace; elsewhere (a log, a pipe) nothing but the summary line at the end.
 */
final class Progress {
  private static final int WIDTH = 30;
  private static final long REDRAW_NANOS = 100_000_000;

  private final PrintStream err;
  private final boolean terminal;
  private final long total;
  private final LongSupplier nanoTime;
  private long startNanos;
  private long lastDrawNanos;
  private long done;

  Progress(PrintStream err, boolean terminal, long total, LongSupplier nanoTime) {
    this.err = err;
    this.terminal = terminal;
    this.total = total;
    this.nanoTime = nanoTime;
  }

  void start(String what) {
    startNanos = nanoTime.getAsLong();
    if (terminal) {
      err.println(total + " event(s) " + what);
      draw();
    }
  }

  /** Called from one thread at a time (the stream's last stage). */
  void advance() {
    done++;
    if (terminal) {
      long now = nanoTime.getAsLong();
      if (now - lastDrawNanos >= REDRAW_NANOS || done == total) {
        lastDrawNanos = now;
        draw();
      }
    }
  }

  /** Ends the bar and prints the summary; {@code what} completes "exported N events ...". */
  void finish(String what) {
    if (terminal) {
      draw();
      err.println();
    }
    double seconds = seconds();
    err.printf(Locale.ROOT, "exported %d event(s) %s in %.1f s (%s)%n", done, what, seconds, rate(seconds));
    err.flush();
  }

  private void draw() {
    err.print("\r" + bar(done, total, rate(seconds())));
    err.flush();
  }

  private double seconds() {
    return (nanoTime.getAsLong() - startNanos) / 1e9;
  }

  private String rate(double seconds) {
    return seconds <= 0 ? "- events/s" : String.format(Locale.ROOT, "%.0f events/s", done / seconds);
  }

  /** {@code [###############...............]  50%  1200/2400  850 events/s} */
  static String bar(long done, long total, String rate) {
    int percent = total == 0 ? 100 : (int) Math.min(100, done * 100 / total);
    int filled = percent * WIDTH / 100;
    return "[" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "] " + String.format(Locale.ROOT, "%3d%%", percent)
        + "  " + done + "/" + total + "  " + rate;
  }

  /**
   * Whether stderr is a terminal. Java only tells whether stdin and stdout both are ({@code System.console()}),
   * which is wrong for {@code warmgate audit export > file}; on Linux, where fd 2 points says it exactly.
   */
  static boolean stderrIsTerminal() {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return System.console() != null;
    }
  }
}
