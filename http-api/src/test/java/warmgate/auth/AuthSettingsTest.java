package warmgate.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

// Parsing warmgate.auth from HOCON text and files; no HTTP, no actor system.
class AuthSettingsTest {
  private static final String HASH_A = Tokens.sha256Hex("token-a");
  private static final String HASH_B = Tokens.sha256Hex("token-b");

  private static AuthSettings parse(String auth) {
    return AuthSettings.fromConfig(shipped("warmgate.auth {" + auth + "}"));
  }

  /** warmgate.conf as shipped under {@code overrides}, without the environment, so WARMGATE_* variables cannot leak in.
   * */
  static Config shipped(String overrides) {
    return ConfigFactory.parseString(overrides).withFallback(ConfigFactory.parseResources("warmgate.conf"))
        .resolve(ConfigResolveOptions.noSystem()).getConfig("warmgate");
  }

  @Test
  void entriesBecomePrincipalsWithOwnerDefaultingToTheName() {
    AuthSettings settings = parse("""
        tokens = [
          { name = "alice", sha256 = "%s" }
          { name = "ops", sha256 = "%s", owner = "platform", admin = true }
        ]""".formatted(HASH_A, HASH_B.toUpperCase()));

    assertThat(settings.enabled()).isTrue();
    assertThat(settings.credentials()).extracting(AuthSettings.Credential::principal)
        .containsExactly(new Principal("alice", "alice", false), new Principal("ops", "platform", true));
    assertThat(Authenticator.of(settings).authenticate("token-b")).hasValue(new Principal("ops", "platform", true));
  }

  @Test
  void shippedDefaultIsOnAndRefusesToStartWithoutTokens() {
    assertThatThrownBy(() -> parse(""))
        .hasMessageContaining("no token is configured").hasMessageContaining("warmgate token");
    assertThat(parse("enabled = off").credentials()).isEmpty();
  }

  @Test
  void hashThatIsNotSixtyFourHexDigitsFailsNamingTheEntry() {
    assertThatThrownBy(() -> parse("tokens = [{ name = alice, sha256 = \"" + HASH_A.substring(1) + "\" }]"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("warmgate.auth.tokens[0] (alice)").hasMessageContaining("sha256 must be 64 hex digits")
        .hasMessageContaining("got 63 characters");
    assertThatThrownBy(() -> parse("tokens = [{ name = alice, sha256 = \"" + HASH_A.replace(HASH_A.charAt(0), 'g')
        + "\" }]"))
        .hasMessageContaining("sha256 must be 64 hex digits");
    assertThatThrownBy(() -> parse("tokens = [{ name = alice, sha256 = \"" + Tokens.generate() + "\" }]"))
        .hasMessageContaining("the token itself? keep only its hash");
  }

  @Test
  void twoEntriesWithTheSameHashFail() {
    assertThatThrownBy(() -> parse("tokens = [{ name = alice, sha256 = \"%s\" }, { name = bob, sha256 = \"%s\" }]"
        .formatted(HASH_A, HASH_A.toUpperCase())))
        .hasMessageContaining("tokens 'alice' and 'bob' have the same sha256");
  }

  @Test
  void twoEntriesWithTheSameNameFail() {
    assertThatThrownBy(() -> parse(
        "tokens = [{ name = alice, sha256 = \"%s\" }, { name = alice, sha256 = \"%s\" }]".formatted(HASH_A, HASH_B)))
        .hasMessageContaining("two tokens are named 'alice'");
  }

  @Test
  void entryMistakesFailWithWhatIsWrong() {
    assertThatThrownBy(() -> parse("tokens = [{ sha256 = \"%s\" }]".formatted(HASH_A)))
        .hasMessageContaining("tokens[0]: 'name' is required");
    assertThatThrownBy(() -> parse("tokens = [{ name = alice }]")).hasMessageContaining("'sha256' is required");
    assertThatThrownBy(() -> parse("tokens = [{ name = alice, sha256 = \"%s\", admn = true }]".formatted(HASH_A)))
        .hasMessageContaining("unknown key 'admn'");
    assertThatThrownBy(() -> parse("tokens = [{ name = alice, sha256 = \"%s\", admin = maybe }]".formatted(HASH_A)))
        .hasMessageContaining("admin must be true or false");
    assertThatThrownBy(() -> parse("tokens = [{ name = alice, sha256 = \"%s\", owner = \"a/b\" }]".formatted(HASH_A)))
        .hasMessageContaining("owner 'a/b'");
    assertThatThrownBy(() -> parse("tokens = [{ name = \"al ice\", sha256 = \"%s\" }]".formatted(HASH_A)))
        .hasMessageContaining("name 'al ice'");
  }

  @Test
  void tokensFileAndEnvironmentTextAddToTheList(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tokens.conf");
    Files.writeString(file, """
        { name = "from-file", sha256 = "%s" }
        { name = "also-from-file", sha256 = "%s", admin = true }
        """.formatted(HASH_A, HASH_B));
    String extra = "[{\"name\": \"from-env\", \"sha256\": \"" + Tokens.sha256Hex("token-c")
        + "\", \"owner\": \"carol\"}]";

    AuthSettings settings = parse("tokens-file = \"%s\"\nextra-tokens = \"\"\"%s\"\"\"".formatted(file, extra));

    assertThat(settings.credentials()).extracting(c -> c.principal().name()).containsExactly("from-file",
        "also-from-file", "from-env");
    assertThat(Authenticator.of(settings).authenticate("token-c")).hasValue(new Principal("from-env", "carol", false));
  }

  @Test
  void unreadableFileOrTextFailsSayingWhere(@TempDir Path dir) {
    assertThatThrownBy(() -> parse("tokens-file = \"" + dir.resolve("missing.conf") + "\""))
        .hasMessageContaining("warmgate.auth.tokens-file").hasMessageContaining("cannot be read");
    assertThatThrownBy(() -> parse("extra-tokens = \"\"\"{ name = \"\"\""))
        .hasMessageContaining("WARMGATE_AUTH_TOKENS").hasMessageContaining("is not a list of token entries");
  }

  @Test
  void authOffIsRefusedBeyondLoopbackUnlessAllowed() {
    AuthSettings off = parse("enabled = off");

    assertThatThrownBy(() -> off.checkInterface("0.0.0.0"))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("0.0.0.0")
            .hasMessageContaining("allow-off-beyond-loopback");
    off.checkInterface("127.0.0.1");
    off.checkInterface("localhost");
    off.checkInterface("::1");
    parse("enabled = off, allow-off-beyond-loopback = on").checkInterface("0.0.0.0");
    parse("tokens = [{ name = alice, sha256 = \"%s\" }]".formatted(HASH_A)).checkInterface("0.0.0.0");
  }
}
