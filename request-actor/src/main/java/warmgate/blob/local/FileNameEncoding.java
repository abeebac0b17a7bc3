package warmgate.blob.local;

import java.util.Locale;

/**
 * Refuses a local blob store whose file names the JVM cannot read: under a POSIX locale (LANG=C, as systemd and
 * cron start services) the JVM decodes file names as ASCII, turns every other character into '?', and the watcher
 * then reports files that cannot be opened under the name it read, again on every scan.
 */
public final class FileNameEncoding {
  private FileNameEncoding() {}

  /** The JVM's file-name encoding, fixed at its start from LC_ALL, LC_CTYPE or LANG. */
  public static String current() {
    return System.getProperty("sun.jnu.encoding", "");
  }

  /** Checks {@link #current()}. */
  public static void requireUtf8() {
    requireUtf8(current());
  }

  /** @throws IllegalStateException saying what is wrong and how to fix it, unless {@code encoding} is UTF-8 */
  public static void requireUtf8(String encoding) {
    String name = encoding.toUpperCase(Locale.ROOT).replace("-", "").replace("_", "");
    if (!name.equals("UTF8")) {
      throw new IllegalStateException("The JVM reads file names as " + (encoding.isEmpty() ? "an unknown encoding"
          : encoding)
          + ", not UTF-8, so the local blob store (warmgate.blob-store.kind = local) would turn every non-ASCII file"
              + " name "
          + "into '?'. The locale comes from LC_ALL, LC_CTYPE or LANG (now LC_ALL=" + env("LC_ALL") + ", LC_CTYPE="
          + env("LC_CTYPE") + ", LANG=" + env("LANG")
              + "); start Warmgate with LC_ALL=C.UTF-8 (or another UTF-8 locale "
          + "the machine has, see locale -a).");
    }
  }

  private static String env(String name) {
    String value = System.getenv(name);
    return value == null ? "(unset)" : value;
  }
}
