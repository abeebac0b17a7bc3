package warmgate.ingest.sqs;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the SQS consumers' figures out of a node's {@code GET /metrics} text. */
public final class SqsConsumerMetrics {
  private SqsConsumerMetrics() {}

  /** The sum of a metric's samples whose labels include {@code labels} (name, value, name, value...); 0 if none. */
  public static double sum(String text, String name, String... labels) {
    double sum = 0;
    Matcher line = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)} (\\S+)$").matcher(text);
    while (line.find()) {
      boolean all = true;
      for (int i = 0; i < labels.length; i += 2) {
        all &= line.group(1).contains(labels[i] + "=\"" + labels[i + 1] + "\"");
      }
      if (all) {
        sum += Double.parseDouble(line.group(2));
      }
    }
    return sum;
  }
}
