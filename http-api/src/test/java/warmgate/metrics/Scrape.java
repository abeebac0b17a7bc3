package warmgate.metrics;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Prometheus' text format read back for assertions: every sample by its name and labels, the label names each
 * sample name carries, and each metric family's type.
 */
public final class Scrape {
  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  private final Map<String, Double> samples = new TreeMap<>();
  private final Map<String, Set<String>> labelNames = new TreeMap<>();
  private final Map<String, String> types = new TreeMap<>();

  private Scrape() {}

  public static Scrape parse(String text) {
    Scrape scrape = new Scrape();
    for (String line : text.split("\n")) {
      if (line.startsWith("# TYPE ")) {
        String[] type = line.split(" ");
        scrape.types.put(type[2], type[3]);
      }
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.indexOf(' ');
      String name;
      Map<String, String> labels = new TreeMap<>();
      String rest;
      if (brace >= 0 && brace < space) {
        int close = line.lastIndexOf('}');
        name = line.substring(0, brace);
        Matcher label = LABEL.matcher(line.substring(brace + 1, close));
        while (label.find()) {
          labels.put(label.group(1), label.group(2));
        }
        rest = line.substring(close + 1).trim();
      } else {
        name = line.substring(0, space);
        rest = line.substring(space + 1).trim();
      }
      scrape.samples.put(key(name, labels), number(rest.split(" ")[0]));
      scrape.labelNames.computeIfAbsent(name, n -> new TreeSet<>()).addAll(labels.keySet());
    }
    return scrape;
  }

  /** The sample {@code name} with exactly these labels (name, value, name, value...); null when there is none. */
  public Double value(String name, String... labels) {
    Map<String, String> wanted = new TreeMap<>();
    for (int i = 0; i < labels.length; i += 2) {
      wanted.put(labels[i], labels[i + 1]);
    }
    return samples.get(key(name, wanted));
  }

  /** Whether any sample is called {@code name}. */
  public boolean has(String name) {
    return samples.keySet().stream().anyMatch(k -> k.equals(name) || k.startsWith(name + "{"));
  }

  /** Every sample name: a gauge's name, a counter's with _total, a histogram's _bucket, _sum and _count. */
  public Set<String> names() {
    return labelNames.keySet();
  }

  /** The label names the samples called {@code name} carry (le included for a bucket); null when there is none. */
  public Set<String> labelNames(String name) {
    return labelNames.get(name);
  }

  /** The type a {@code # TYPE} line gives the family {@code name} (counter, gauge, histogram...); null if none. */
  public String type(String name) {
    return types.get(name);
  }

  private static String key(String name, Map<String, String> labels) {
    return labels.isEmpty() ? name : name + labels;
  }

  private static double number(String text) {
    return switch (text) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> Double.parseDouble(text);
    };
  }
}
