package warmgate.job;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The one rule set for bucket names and object keys, applied wherever a reference enters: notifications of
 * every kind, the folder watcher and {@code POST /v1/jobs}. A key that breaks it can never name an object in
 * every store (S3 refuses it, or the local store cannot map it to a file inside its bucket), so a job built on
 * it could only wait for inputs that never come or fail to write its result; it is refused before anything is
 * persisted. Each rule has a name that error messages and skip reasons carry, so a user learns which one broke.
 */
public final class ObjectKeys {
  /** Checked for every job's every object: compiled once, not at each {@code String.matches}. */
  private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

  /** S3's limit: a key is at most 1,024 bytes of UTF-8. */
  public static final int MAX_KEY_BYTES = 1024;

  private ObjectKeys() {}

  /** A broken rule: its short name (as documented in docs/api.md) and a sentence saying what is wrong. */
  public record Violation(String rule, String message) {
    @Override
    public String toString() {
      return message + " (rule: " + rule + ")";
    }
  }

  /** What is wrong with {@code key}, or empty when it may name an object. */
  public static Optional<Violation> checkKey(String key) {
    if (key == null || key.isEmpty()) {
      return violation("key-not-empty", "the key is empty");
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < key.length() && Character.isLowSurrogate(key.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return violation("key-utf8", "the key is not valid UTF-8 (an unpaired surrogate at character " + i + ")");
      } else if (Character.isISOControl(c)) {
        return violation("key-no-control-characters",
            "the key holds a control character (U+" + String.format("%04X", (int) c) + ") at character " + i);
      }
    }
    int bytes = key.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_KEY_BYTES) {
      return violation("key-max-1024-bytes", "the key is " + bytes + " bytes of UTF-8; S3 allows at most "
          + MAX_KEY_BYTES);
    }
    if (key.startsWith("/")) {
      return violation("key-no-leading-slash", "the key starts with '/'");
    }
    if (key.indexOf('\\') >= 0) {
      // S3 would take it, but it is a separator on some file systems: the local store could not keep it.
      return violation("key-no-backslash", "the key holds a '\\'");
    }
    for (String segment : key.split("/", -1)) {
      if (segment.isEmpty()) {
        return violation("key-no-empty-segments", "the key has an empty segment ('//' or a trailing '/')");
      }
      if (segment.equals(".") || segment.equals("..")) {
        return violation("key-no-dot-segments", "the key has a '" + segment + "' segment");
      }
    }
    return Optional.empty();
  }

  /** What is wrong with {@code bucket} as an S3 bucket name (as S3 documents them for new buckets), or empty. */
  public static Optional<Violation> checkBucket(String bucket) {
    if (bucket == null || !BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
      return violation("bucket-name", "the bucket name is not a valid S3 bucket name (3-63 lower-case letters, digits, "
          + "dots and hyphens)");
    }
    return Optional.empty();
  }

  /** What is wrong with either part of {@code ref}, or empty. */
  public static Optional<Violation> check(String bucket, String key) {
    Optional<Violation> bad = checkBucket(bucket);
    return bad.isPresent() ? bad : checkKey(key);
  }

  private static Optional<Violation> violation(String rule, String message) {
    return Optional.of(new Violation(rule, message));
  }
}
