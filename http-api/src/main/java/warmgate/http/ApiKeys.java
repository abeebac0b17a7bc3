package warmgate.http;

import com.typesafe.config.Config;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import warmgate.auth.Tokens;

/**
 * API keys as an EventBridge connection with {@code API_KEY} authorization sends them: one header, a secret
 * value. Only SHA-256 hashes of the keys are configured, so the config holds nothing a reader could replay;
 * a presented key is hashed and compared with every configured hash in constant time.
 *
 * @param header the header name, as configured on the connection
 * @param hashes SHA-256 of each accepted key; more than one lets a key be rotated without downtime
 * @param configKey the config path of {@code hashes}, named in the error when none is set
 */
public record ApiKeys(String header, List<byte[]> hashes, String configKey) {
  private static final Pattern HEADER = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}");

  /** What a request's key amounts to. */
  public enum Verdict {
    ACCEPTED,
    MISSING,
    WRONG,
    /** No key is configured, so nobody can be let in. */
    UNCONFIGURED
  }

  public ApiKeys {
    if (!HEADER.matcher(header).matches()) {
      throw new IllegalArgumentException("'" + header + "' is not a valid HTTP header name");
    }
    hashes = List.copyOf(hashes);
  }

  /**
   * Reads {@code api-key-header} and {@code api-key-sha256} (a list of 64 hex digit hashes) from {@code section},
   * found at {@code path}.
   *
   * @throws IllegalArgumentException for a malformed header name or hash, naming the key
   */
  public static ApiKeys fromConfig(Config section, String path) {
    String header = section.getString("api-key-header").trim();
    if (!HEADER.matcher(header).matches()) {
      throw new IllegalArgumentException(path + ".api-key-header '" + header + "' is not a valid HTTP header name");
    }
    List<byte[]> hashes = section.getStringList("api-key-sha256").stream()
        .map(String::trim)
        .filter(hex -> !hex.isEmpty())
        .map(hex -> {
          if (!Tokens.isSha256Hex(hex)) {
            throw new IllegalArgumentException(path + ".api-key-sha256: '" + hex.substring(0, Math.min(8, hex.length()))
                + "...' is not a SHA-256 hash (64 hex digits; e.g. printf %s \"$KEY\" | sha256sum)");
          }
          return HexFormat.of().parseHex(hex.toLowerCase(Locale.ROOT));
        })
        .toList();
    return new ApiKeys(header, hashes, path + ".api-key-sha256");
  }

  public boolean configured() {
    return !hashes.isEmpty();
  }

  public Verdict check(String presented) {
    if (hashes.isEmpty()) {
      return Verdict.UNCONFIGURED;
    }
    if (presented == null || presented.isEmpty()) {
      return Verdict.MISSING;
    }
    byte[] hash = Tokens.sha256(presented);
    boolean match = false;
    for (byte[] accepted : hashes) {
      // Every hash is compared, each in constant time, as bearer tokens are.
      match |= Tokens.sameDigest(hash, accepted);
    }
    return match ? Verdict.ACCEPTED : Verdict.WRONG;
  }


  /** Never shows the hashes. */
  @Override
  public String toString() {
    return "ApiKeys[header=" + header + ", keys=" + hashes.size() + "]";
  }
}
