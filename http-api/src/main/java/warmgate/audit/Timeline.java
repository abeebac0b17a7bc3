package warmgate.audit;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import warmgate.Json;
import warmgate.job.JobSpec;
import warmgate.request.Request;
import warmgate.request.RequestState;

/** A job's journal as a person reads it: one line per event with its time, the time since the job began, and its facts.
 * */
final class Timeline {
  private Timeline() {}

  /**
   * @param events the job's events, oldest first; not empty
   */
  static List<String> render(String jobId, List<StoredEvent> events) {
    List<Request.Event> facts = events.stream().map(e -> (Request.Event) e.event()).toList();
    RequestState state = RequestState.replay(facts);
    List<String> lines = new ArrayList<>();
    if (state instanceof RequestState.Job job) {
      JobSpec spec = job.core().spec();
      lines.add("Job " + jobId + " on endpoint " + spec.endpoint() + (spec.owner() == null ? "" : ", owner "
          + spec.owner())
          + ", " + events.size() + " event(s)");
    } else {
      lines.add("Job " + jobId + ", " + events.size() + " event(s)");
    }
    Instant start = facts.get(0).at();
    int typeWidth = facts.stream().mapToInt(e -> e.getClass().getSimpleName().length()).max().orElse(0);
    for (int i = 0; i < events.size(); i++) {
      Request.Event event = facts.get(i);
      String type = event.getClass().getSimpleName();
      lines.add(String.format("  %-30s %10s  #%-3d %-" + typeWidth + "s  %s", event.at(),
          elapsed(Duration.between(start, event.at())),
          events.get(i).seqNr(), type, facts(event)).stripTrailing());
    }
    if (state instanceof RequestState.Job job) {
      lines.add("Now " + job.status() + " after " + job.core().attempts() + " attempt(s), "
          + elapsed(Duration.between(start, job.core().updatedAt())).substring(1) + " after it was submitted"
          + (job.error() == null ? "" : "; error: " + job.error()));
    }
    return lines;
  }

  /** {@code +1.234s}, {@code +2m05.000s}, {@code +3h02m05s}: short for the usual, readable for the long. */
  static String elapsed(Duration d) {
    if (d.isNegative()) {
      return "-" + elapsed(d.negated()).substring(1);
    }
    long seconds = d.getSeconds();
    long millis = d.toMillisPart();
    if (seconds < 60) {
      return String.format("+%d.%03ds", seconds, millis);
    }
    if (seconds < 3600) {
      return String.format("+%dm%02d.%03ds", seconds / 60, seconds % 60, millis);
    }
    return String.format("+%dh%02dm%02ds", seconds / 3600, seconds / 60 % 60, seconds % 60);
  }

  /** The event's fields but its time, as {@code name=value}; a submission shows its spec instead of its raw form. */
  static String facts(Request.Event event) {
    if (event instanceof Request.JobSubmitted submitted) {
      JobSpec spec = submitted.spec();
      StringBuilder line = new StringBuilder("inputs=").append(spec.inputs().entrySet().stream()
          .map(e -> e.getKey() + ":" + e.getValue()).collect(Collectors.joining(",")));
      line.append(" output=").append(spec.output()).append(" source=").append(value(spec.source()));
      if (spec.requireReview()) {
        line.append(" review=required");
      }
      if (spec.callbackUrl() != null) {
        line.append(" callback=").append(spec.callbackUrl());
      }
      return line.append(" inputsDeadline=").append(submitted.inputsDeadline()).toString();
    }
    JsonNode fields = Json.mapper().valueToTree(event);
    List<String> parts = new ArrayList<>();
    for (Map.Entry<String, JsonNode> field : fields.properties()) {
      if (field.getKey().equals("at") || field.getValue().isNull()) {
        continue;
      }
      JsonNode value = field.getValue();
      parts.add(field.getKey() + "=" + (value.isValueNode() ? value(value.asText()) : value.toString()));
    }
    return String.join(" ", parts);
  }

  /** Plain when it is one word, JSON-quoted when it has spaces (an error message), so lines stay parseable by eye. */
  private static String value(String text) {
    if (text == null) {
      return "null";
    }
    boolean plain = !text.isEmpty() && text.chars().noneMatch(c -> Character.isWhitespace(c) || c == '"');
    return plain ? text : Json.mapper().getNodeFactory().textNode(text).toString();
  }
}
