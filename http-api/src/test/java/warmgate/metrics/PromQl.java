package warmgate.metrics;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the metric names out of a PromQL expression, with the label names each selector matches on, the
 * functions it sits inside, and the labels the expression groups by. It knows PromQL's lexical shape (selectors,
 * label matchers, ranges, strings, numbers and durations, operators, {@code by}/{@code without}/{@code on}/
 * {@code ignoring} lists) and its functions by name; anything else, an unknown function included, is refused with
 * an exception rather than guessed at, so a typo cannot hide a metric from the check.
 */
final class PromQl {
  /** A metric named in the expression: its name, the labels its matchers name, the functions around it. */
  record Selector(String metric, Set<String> labels, List<String> within) {}

  record Expression(List<Selector> selectors, Set<String> grouping) {}

  private static final Set<String> AGGREGATIONS = Set.of("sum", "min", "max", "avg", "group", "stddev", "stdvar",
      "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio");
  private static final Set<String> FUNCTIONS = Set.of("abs", "absent", "absent_over_time", "ceil", "changes",
      "clamp", "clamp_max", "clamp_min", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "delta",
      "deriv", "exp", "floor", "histogram_avg", "histogram_count", "histogram_fraction", "histogram_quantile",
      "histogram_stddev", "histogram_stdvar", "histogram_sum", "holt_winters", "double_exponential_smoothing", "hour",
      "idelta", "increase", "irate", "label_join", "label_replace", "ln", "log2", "log10", "minute", "month",
      "predict_linear", "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sort_by_label",
      "sort_by_label_desc", "sqrt", "time", "timestamp", "vector", "year", "avg_over_time", "min_over_time",
      "max_over_time", "sum_over_time", "count_over_time", "quantile_over_time", "stddev_over_time",
      "stdvar_over_time", "last_over_time", "present_over_time", "mad_over_time", "acos", "acosh", "asin", "asinh",
      "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh", "deg", "rad", "pi");
  private static final Set<String> GROUPING = Set.of("by", "without", "on", "ignoring", "group_left", "group_right");
  private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "atan2", "inf", "nan");
  private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern MATCHER = Pattern.compile(
      "\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*')\\s*(,|})");
  private static final String OPERATORS = "+-*/%^=!<>,@";

  private PromQl() {}

  static Expression parse(String expr) {
    List<Selector> selectors = new ArrayList<>();
    Set<String> grouping = new TreeSet<>();
    Deque<String> open = new ArrayDeque<>();
    String function = null; // the function or aggregation whose "(" comes next
    int i = 0;
    while (i < expr.length()) {
      char c = expr.charAt(i);
      if (Character.isWhitespace(c) || OPERATORS.indexOf(c) >= 0) {
        i++;
      } else if (c == '#') {
        int end = expr.indexOf('\n', i);
        i = end < 0 ? expr.length() : end;
      } else if (c == '"' || c == '\'' || c == '`') {
        i = afterString(expr, i);
      } else if (c == '(') {
        open.push(function == null ? "" : function);
        function = null;
        i++;
      } else if (c == ')') {
        if (open.isEmpty()) {
          throw refused(expr, i, "a ')' that closes nothing");
        }
        open.pop();
        i++;
      } else if (c == '[') {
        int end = expr.indexOf(']', i); // a range or subquery: durations, Grafana's $__rate_interval
        if (end < 0) {
          throw refused(expr, i, "an unclosed '['");
        }
        i = end + 1;
      } else if (Character.isDigit(c) || c == '.') {
        while (i < expr.length() && (Character.isLetterOrDigit(expr.charAt(i)) || expr.charAt(i) == '.')) {
          i++; // a number or a duration (5m, 1.5, 1e3)
        }
      } else if (c == '{') {
        throw refused(expr, i, "a selector without a metric name");
      } else {
        Matcher word = IDENTIFIER.matcher(expr).region(i, expr.length());
        if (!word.lookingAt()) {
          throw refused(expr, i, "a character PromQL does not have here");
        }
        String name = word.group();
        i = word.end();
        int next = skipSpaces(expr, i);
        boolean call = next < expr.length() && expr.charAt(next) == '(';
        if (GROUPING.contains(name)) {
          if (call) {
            int end = expr.indexOf(')', next);
            if (end < 0) {
              throw refused(expr, next, "an unclosed label list");
            }
            for (String label : expr.substring(next + 1, end).split(",")) {
              if (!label.isBlank()) {
                grouping.add(label.strip());
              }
            }
            i = end + 1;
          }
        } else if (KEYWORDS.contains(name)) {
          continue;
        } else if (AGGREGATIONS.contains(name)) {
          function = name; // its "(" may come after a by (...) list
        } else if (call) {
          if (!FUNCTIONS.contains(name)) {
            throw refused(expr, i - name.length(), "unknown function " + name);
          }
          function = name;
        } else {
          Set<String> labels = new TreeSet<>();
          if (next < expr.length() && expr.charAt(next) == '{') {
            i = next + 1;
            if (skipSpaces(expr, i) < expr.length() && expr.charAt(skipSpaces(expr, i)) == '}') {
              i = skipSpaces(expr, i) + 1;
            } else {
              Matcher matcher = MATCHER.matcher(expr);
              while (true) {
                if (!matcher.region(i, expr.length()).lookingAt()) {
                  throw refused(expr, i, "a label matcher PromQL does not have");
                }
                if (matcher.group(1).equals("__name__")) {
                  throw refused(expr, i, "a metric named by __name__");
                }
                labels.add(matcher.group(1));
                i = matcher.end();
                if (matcher.group(4).equals("}")) {
                  break;
                }
              }
            }
          }
          selectors.add(new Selector(name, labels, List.copyOf(open)));
        }
      }
    }
    if (!open.isEmpty()) {
      throw refused(expr, expr.length(), open.size() + " unclosed '('");
    }
    return new Expression(selectors, grouping);
  }

  private static int afterString(String expr, int start) {
    char quote = expr.charAt(start);
    for (int i = start + 1; i < expr.length(); i++) {
      if (expr.charAt(i) == '\\' && quote != '`') {
        i++;
      } else if (expr.charAt(i) == quote) {
        return i + 1;
      }
    }
    throw refused(expr, start, "an unclosed string");
  }

  private static int skipSpaces(String expr, int i) {
    while (i < expr.length() && Character.isWhitespace(expr.charAt(i))) {
      i++;
    }
    return i;
  }

  private static IllegalArgumentException refused(String expr, int at, String what) {
    return new IllegalArgumentException("PromQL this check does not read: " + what + " at " + at + " in: " + expr);
  }
}
