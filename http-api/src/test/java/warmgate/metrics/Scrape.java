package warmgate.metrics;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Prometheus' text format read back for assertions: every sample by its name and labels. */
public final class Scrape {
  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  private final Map<String, Double> samples = new TreeMap<>();

  private Scrape() {}

  public static Scrape parse(String text) {
    Scrape scrape = new Scrape();
    for (String line : text.split("\n")) {
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
