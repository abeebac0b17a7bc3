package warmgate.index;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import warmgate.InvalidInput;
import warmgate.job.JobStatus;

/**
 * What {@code GET /v1/jobs} asks the index for. Every filter is optional; an empty {@code statuses} means
 * any status.
 *
 * @param from createdAt at or after (inclusive); null: no bound
 * @param to createdAt before (exclusive); null: no bound
 * @param after the page starts after this position; null: the newest job first
 */
public record JobQuery(Set<JobStatus> statuses, String endpoint, String owner, Instant from, Instant to, int limit,
    Cursor after) {
  public static final int DEFAULT_LIMIT = 50;
  public static final int MAX_LIMIT = 500;

  public JobQuery {
    statuses = statuses.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(statuses));
  }

  /** Every job, newest first, the default page size. */
  public static JobQuery all() {
    return new JobQuery(Set.of(), null, null, null, null, DEFAULT_LIMIT, null);
  }

  public JobQuery withOwner(String owner) {
    return new JobQuery(statuses, endpoint, owner, from, to, limit, after);
  }

  public JobQuery withLimit(int limit) {
    return new JobQuery(statuses, endpoint, owner, from, to, limit, after);
  }

  public JobQuery withStatuses(Set<JobStatus> statuses) {
    return new JobQuery(statuses, endpoint, owner, from, to, limit, after);
  }

  public JobQuery after(Cursor cursor) {
    return new JobQuery(statuses, endpoint, owner, from, to, limit, cursor);
  }

  /**
   * Reads the query string of {@code GET /v1/jobs}; unknown parameters are ignored. A bad value is an
   * {@link InvalidInput} (400, code {@code invalid_query}) whose message names the parameter.
   */
  public static JobQuery parse(Map<String, List<String>> params) {
    Set<JobStatus> statuses = EnumSet.noneOf(JobStatus.class);
    for (String value : params.getOrDefault("status", List.of())) {
      for (String name : value.split(",", -1)) {
        statuses.add(status(name.trim()));
      }
    }
    String endpoint = single(params, "endpoint");
    String owner = single(params, "owner");
    Instant from = instant(params, "from");
    Instant to = instant(params, "to");
    if (from != null && to != null && !from.isBefore(to)) {
      throw invalid("to", "must be later than from (from is inclusive, to exclusive)");
    }
    String limitText = single(params, "limit");
    int limit = DEFAULT_LIMIT;
    if (limitText != null) {
      try {
        limit = Integer.parseInt(limitText);
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > MAX_LIMIT) {
        throw invalid("limit", "must be a whole number from 1 to " + MAX_LIMIT + ", not '" + clip(limitText) + "'");
      }
    }
    String cursor = single(params, "cursor");
    return new JobQuery(statuses, endpoint, owner, from, to, limit, cursor == null ? null : Cursor.decode(cursor));
  }

  private static JobStatus status(String name) {
    try {
      return JobStatus.valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw invalid("status", "'" + clip(name) + "' is not a job status; use "
          + Arrays.stream(JobStatus.values()).map(Enum::name).collect(Collectors.joining(", ")));
    }
  }

  /** A parameter given at most once, and not empty when given. */
  private static String single(Map<String, List<String>> params, String name) {
    List<String> values = params.getOrDefault(name, List.of());
    if (values.size() > 1) {
      throw invalid(name, "give it once");
    }
    if (values.isEmpty()) {
      return null;
    }
    if (values.get(0).isBlank()) {
      throw invalid(name, "must not be empty; leave it out for no filter");
    }
    return values.get(0);
  }

  private static Instant instant(Map<String, List<String>> params, String name) {
    String text = single(params, name);
    if (text == null) {
      return null;
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw invalid(name, "must be an ISO-8601 instant in UTC such as 2026-11-23T10:15:30Z, not '" + clip(text) + "'");
    }
  }

  static InvalidInput invalid(String parameter, String problem) {
    return new InvalidInput("invalid_query", "query parameter " + parameter + ": " + problem);
  }

  /** Echoes at most a short prefix of what a caller sent. */
  private static String clip(String text) {
    return text.length() <= 64 ? text : text.substring(0, 64) + "...";
  }

  /**
   * A position in the list: the last job of a page. Keyset paging on (createdAt, jobId), so jobs created
   * while a client pages neither shift nor repeat the pages it has not read yet. Opaque to clients.
   */
  public record Cursor(Instant createdAt, String jobId) {
    private static final String VERSION = "1";

    public String encode() {
      String text = VERSION + "|" + createdAt.getEpochSecond() + "|" + createdAt.getNano() + "|" + jobId;
      return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    public static Cursor decode(String cursor) {
      try {
        String[] parts = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("\\|", 4);
        if (parts.length == 4 && parts[0].equals(VERSION) && !parts[3].isEmpty() && parts[3].length() <= 255) {
          return new Cursor(Instant.ofEpochSecond(Long.parseLong(parts[1]), Long.parseLong(parts[2])), parts[3]);
        }
      } catch (IllegalArgumentException | java.time.DateTimeException | ArithmeticException e) {
        // answered below, as every other malformed cursor
      }
      throw invalid("cursor", "not a cursor this API gave out; pass nextCursor of the previous page as it is");
    }
  }
}
