package warmgate.job;

import java.util.Objects;
import warmgate.InvalidInput;

/** An object in a bucket, written {@code s3://bucket/key} wherever a user sees it. */
public record ObjectRef(String bucket, String key) {
  private static final String SCHEME = "s3://";

  public ObjectRef {
    Objects.requireNonNull(bucket, "bucket");
    Objects.requireNonNull(key, "key");
  }

  /** Parses {@code s3://bucket/key}; the key is taken literally (no URL decoding). */
  public static ObjectRef parse(String uri) {
    return parse("reference", uri);
  }

  /**
   * Parses {@code s3://bucket/key} given as {@code field} of a request, and checks it against {@link ObjectKeys}:
   * the error names the field and the rule that was broken.
   */
  public static ObjectRef parse(String field, String uri) {
    if (uri == null || !uri.startsWith(SCHEME)) {
      throw invalid(field, "expected s3://bucket/key but got " + quote(uri), "s3-uri");
    }
    String rest = uri.substring(SCHEME.length());
    int slash = rest.indexOf('/');
    if (slash <= 0 || slash == rest.length() - 1) {
      throw invalid(field, "expected s3://bucket/key but got " + quote(uri), "s3-uri");
    }
    return checked(field, rest.substring(0, slash), rest.substring(slash + 1));
  }

  /** The reference, if {@code bucket} and {@code key} follow {@link ObjectKeys}; else {@link InvalidInput} naming
   * {@code field}. */
  public static ObjectRef checked(String field, String bucket, String key) {
    ObjectKeys.check(bucket, key).ifPresent(v -> {
      throw invalid(field, v.message(), v.rule());
    });
    return new ObjectRef(bucket, key);
  }

  private static InvalidInput invalid(String field, String message, String rule) {
    return new InvalidInput("invalid_object_uri", "'" + field + "': " + message + " (rule: " + rule + ")");
  }

  /** The key's last path segment without its extension: {@code a/b/cat.ply} gives {@code cat}. */
  public String baseName() {
    String name = key.substring(key.lastIndexOf('/') + 1);
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }

  /** A sibling object in the same folder. */
  public ObjectRef sibling(String name) {
    return new ObjectRef(bucket, key.substring(0, key.lastIndexOf('/') + 1) + name);
  }

  @Override
  public String toString() {
    return SCHEME + bucket + "/" + key;
  }

  private static String quote(String s) {
    if (s == null) {
      return "nothing";
    }
    // Echoed to the caller: long or odd input stays short and printable.
    String shown = s.length() > 80 ? s.substring(0, 80) + "..." : s;
    StringBuilder out = new StringBuilder("'");
    shown.codePoints().forEach(c -> out.append(Character.isISOControl(c) ? String.format("\\u%04x", c)
        : Character.toString(c)));
    return out.append('\'').toString();
  }
}
