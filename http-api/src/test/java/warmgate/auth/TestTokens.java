package warmgate.auth;

import java.util.List;
import java.util.Map;

/** Tokens for tests, new on every run: an admin, and two users who each own their jobs. */
public final class TestTokens {
  public static final String ADMIN = Tokens.generate();
  public static final String ALICE = Tokens.generate();
  public static final String BOB = Tokens.generate();

  private TestTokens() {}

  /** The value of {@code warmgate.auth.tokens} for {@link com.typesafe.config.ConfigFactory#parseMap}. */
  public static List<Map<String, Object>> entries() {
    return List.of(
        Map.of("name", "ops", "sha256", Tokens.sha256Hex(ADMIN), "admin", true),
        Map.of("name", "alice", "sha256", Tokens.sha256Hex(ALICE)),
        Map.of("name", "bob-token", "sha256", Tokens.sha256Hex(BOB), "owner", "bob"));
  }

  /** The same entries as HOCON, for a config file. */
  public static String hocon() {
    return "warmgate.auth.tokens = [\n"
        + "  { name = ops, sha256 = \"" + Tokens.sha256Hex(ADMIN) + "\", admin = true }\n"
        + "  { name = alice, sha256 = \"" + Tokens.sha256Hex(ALICE) + "\" }\n"
        + "  { name = bob-token, sha256 = \"" + Tokens.sha256Hex(BOB) + "\", owner = bob }\n"
        + "]\n";
  }

  public static Authenticator authenticator() {
    return Authenticator.of(new AuthSettings(true, false, List.of(
        credential("ops", "ops", true, ADMIN), credential("alice", "alice", false, ALICE), credential("bob-token",
            "bob", false, BOB))));
  }

  private static AuthSettings.Credential credential(String name, String owner, boolean admin, String token) {
    return new AuthSettings.Credential(new Principal(name, owner, admin), Tokens.sha256(token));
  }
}
