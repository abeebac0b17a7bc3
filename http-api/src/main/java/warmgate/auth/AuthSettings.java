package warmgate.auth;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code warmgate.auth}: whether the edge asks for bearer tokens, and which tokens there are. Tokens come
 * from the {@code tokens} list, the file named by {@code tokens-file} and the text in {@code extra-tokens}
 * (both in the same format, one entry per token), all added together. Every mistake fails at start.
 *
 * @param enabled off: every request is served as {@link Principal#UNAUTHENTICATED}
 * @param allowOffBeyondLoopback lets a node with authentication off listen on more than the loopback interface
 */
public record AuthSettings(boolean enabled, boolean allowOffBeyondLoopback, List<Credential> credentials) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}");
  private static final Set<String> ENTRY_KEYS = Set.of("name", "sha256", "owner", "admin", "scope");

  /** A configured token: its SHA-256 and the principal it stands for. */
  public record Credential(Principal principal, byte[] sha256) {
    public Credential {
      if (sha256.length != 32) {
        throw new IllegalArgumentException("a SHA-256 has 32 bytes");
      }
      sha256 = sha256.clone();
    }

    @Override
    public byte[] sha256() {
      return sha256.clone();
    }
  }

  public AuthSettings {
    credentials = List.copyOf(credentials);
    if (enabled && credentials.isEmpty()) {
      throw new IllegalArgumentException("warmgate.auth.enabled is on but no token is configured: create one with "
          + "`warmgate token --name NAME --admin` and add its entry to warmgate.auth.tokens (or to the file in "
          + "WARMGATE_AUTH_TOKENS_FILE, or to WARMGATE_AUTH_TOKENS)");
    }
    Map<String, String> nameByHash = new HashMap<>();
    Map<String, String> seenNames = new HashMap<>();
    for (Credential c : credentials) {
      String name = c.principal().name();
      if (seenNames.put(name, name) != null) {
        throw new IllegalArgumentException("warmgate.auth: two tokens are named '" + name + "'; names must be unique");
      }
      String other = nameByHash.put(HexFormat.of().formatHex(c.sha256), name);
      if (other != null) {
        throw new IllegalArgumentException("warmgate.auth: tokens '" + other + "' and '" + name
            + "' have the same sha256, so one token would stand for both; give each its own token (`warmgate token`)");
      }
    }
  }

  public static AuthSettings fromConfig(Config warmgate) {
    Config auth = warmgate.getConfig("auth");
    String scope = auth.hasPath("owner-scope") ? auth.getString("owner-scope") : Principal.DEFAULT_SCOPE;
    String problem = Principal.scopeProblem(scope);
    if (problem != null) {
      throw new IllegalArgumentException("warmgate.auth.owner-scope '" + scope + "' " + problem);
    }
    List<Credential> credentials = new ArrayList<>();
    List<? extends ConfigObject> listed = auth.getObjectList("tokens");
    for (int i = 0; i < listed.size(); i++) {
      credentials.add(entry(listed.get(i).toConfig(), "warmgate.auth.tokens[" + i + "]", scope));
    }
    String file = auth.getString("tokens-file");
    if (!file.isBlank()) {
      credentials.addAll(entries(readFile(Path.of(file)), "tokens file " + file, scope));
    }
    String extra = auth.getString("extra-tokens");
    if (!extra.isBlank()) {
      credentials.addAll(entries(extra, "warmgate.auth.extra-tokens (WARMGATE_AUTH_TOKENS)", scope));
    }
    return new AuthSettings(auth.getBoolean("enabled"), auth.getBoolean("allow-off-beyond-loopback"), credentials);
  }

  /** Refuses to serve without authentication on an interface other hosts can reach, unless explicitly allowed. */
  public void checkInterface(String httpInterface) {
    if (!enabled && !allowOffBeyondLoopback && !isLoopback(httpInterface)) {
      throw new IllegalStateException("warmgate.auth.enabled is off while warmgate.http.interface is " + httpInterface
          + ", which other hosts can reach: anyone there could submit jobs and start endpoints. Turn authentication on "
          + "(WARMGATE_AUTH_ENABLED=on with tokens), listen on 127.0.0.1, or set "
              + "warmgate.auth.allow-off-beyond-loopback = on "
          + "if something in front of Warmgate authenticates every request");
    }
  }

  static boolean isLoopback(String host) {
    try {
      for (InetAddress address : InetAddress.getAllByName(host)) {
        if (!address.isLoopbackAddress()) {
          return false;
        }
      }
      return true;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** One or more entries as HOCON or JSON text: a list {@code [{...}, {...}]}, or the objects alone, one per line. */
  static List<Credential> entries(String text, String source) {
    return entries(text, source, Principal.DEFAULT_SCOPE);
  }

  /** @param scope the scope of entries that name none ({@code warmgate.auth.owner-scope}) */
  static List<Credential> entries(String text, String source, String scope) {
    String trimmed = text.strip();
    List<? extends ConfigObject> objects;
    try {
      objects = ConfigFactory.parseString("tokens = " + (trimmed.startsWith("[") ? trimmed : "[" + trimmed + "]"))
          .getObjectList("tokens");
    } catch (ConfigException e) {
      throw new IllegalArgumentException(source
          + " is not a list of token entries { name = ..., sha256 = ..., owner = ..., admin = ... }: "
          + e.getMessage(), e);
    }
    List<Credential> credentials = new ArrayList<>();
    for (int i = 0; i < objects.size(); i++) {
      credentials.add(entry(objects.get(i).toConfig(), source + " entry " + (i + 1), scope));
    }
    return credentials;
  }

  private static Credential entry(Config c, String where, String defaultScope) {
    for (String key : c.root().keySet()) {
      if (!ENTRY_KEYS.contains(key)) {
        throw new IllegalArgumentException(where + ": unknown key '" + key + "'; a token entry has " + ENTRY_KEYS);
      }
    }
    String name = requiredString(c, "name", where);
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(where + ": name '" + name
          + "' must be 1-64 letters, digits, '.', '_', '@' or '-'");
    }
    String at = where + " (" + name + ")";
    String hex = requiredString(c, "sha256", at);
    if (!Tokens.isSha256Hex(hex)) {
      throw new IllegalArgumentException(at + ": sha256 must be 64 hex digits, the SHA-256 of the token as "
          + "`warmgate token` prints it; got " + hex.length() + " characters" + (hex.startsWith(Tokens.PREFIX)
              ? " (the token itself? keep only its hash)" : ""));
    }
    String owner = c.hasPath("owner") ? requiredString(c, "owner", at) : name;
    if (!Principal.validOwner(owner)) {
      throw new IllegalArgumentException(at + ": owner '" + owner
          + "' must be 1-128 characters without '/' or control characters");
    }
    boolean admin;
    try {
      admin = c.hasPath("admin") && c.getBoolean("admin");
    } catch (ConfigException.WrongType e) {
      throw new IllegalArgumentException(at + ": admin must be true or false", e);
    }
    String scope = c.hasPath("scope") ? requiredString(c, "scope", at) : defaultScope;
    String problem = Principal.scopeProblem(scope);
    if (problem != null) {
      throw new IllegalArgumentException(at + ": scope '" + scope + "' " + problem);
    }
    return new Credential(new Principal(name, owner, admin, scope), HexFormat.of().parseHex(hex));
  }

  private static String requiredString(Config c, String key, String where) {
    if (!c.hasPath(key)) {
      throw new IllegalArgumentException(where + ": '" + key + "' is required");
    }
    try {
      return c.getString(key);
    } catch (ConfigException.WrongType e) {
      throw new IllegalArgumentException(where + ": '" + key + "' must be a string", e);
    }
  }

  private static String readFile(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException("warmgate.auth.tokens-file " + file + " cannot be read: " + e, e);
    }
  }
}
