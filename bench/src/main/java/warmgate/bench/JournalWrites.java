package warmgate.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How a benchmark's node writes its journal: with Warmgate's batching DAO (persistence.conf, what a node runs with),
 * or with pekko-persistence-jdbc's own, which inserts tagged events one at a time; both in one run, for a side-by-side
 * figure ({@code --writes batched,plugin}).
 */
public enum JournalWrites {
  BATCHED,
  PLUGIN;

  /** A comma-separated list of {@code batched} and {@code plugin}. */
  public static List<JournalWrites> parse(String list) {
    return Arrays.stream(list.split(",")).map(String::trim).map(w -> valueOf(w.toUpperCase(Locale.ROOT))).toList();
  }

  /** Adds the node setting this choice needs to {@code settings}. */
  public void applyTo(Map<String, Object> settings) {
    if (this == PLUGIN) {
      settings.put("jdbc-journal.dao", "org.apache.pekko.persistence.jdbc.journal.dao.DefaultJournalDao");
    }
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
