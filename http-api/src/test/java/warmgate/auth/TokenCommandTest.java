package warmgate.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

// `warmgate token`: its output, read back the way a configuration would be; no actor system.
class TokenCommandTest {

  private static List<String> run(String... args) {
    var out = new ByteArrayOutputStream();
    TokenCommand.print(args, new PrintStream(out, true, StandardCharsets.UTF_8));
    return out.toString(StandardCharsets.UTF_8).lines().toList();
  }

  private static String token(List<String> lines) {
    return lines.stream().map(String::strip).filter(l -> l.startsWith(Tokens.PREFIX)).findFirst().orElseThrow();
  }

  private static String entry(List<String> lines) {
    return lines.stream().map(String::strip).filter(l -> l.startsWith("{")).findFirst().orElseThrow();
  }

  @Test
  void printedEntryInTheConfigurationAuthenticatesThePrintedToken() {
    List<String> output = run("--name", "alice");

    var settings = AuthSettings.fromConfig(AuthSettingsTest.shipped("warmgate.auth.tokens = [" + entry(output) + "]"));

    assertThat(Authenticator.of(settings).authenticate(token(output))).hasValue(new Principal("alice", "alice", false));
    assertThat(String.join("\n", output)).as("the token appears once, not inside the entry")
        .containsOnlyOnce(token(output));
  }

  @Test
  void adminWithAnotherOwnerIsPrintedAsSuch() {
    List<String> output = run("--name", "ci-forwarder", "--owner", "platform", "--admin");

    var credential = AuthSettings.entries(entry(output), "test").get(0);

    assertThat(credential.principal()).isEqualTo(new Principal("ci-forwarder", "platform", true));
    assertThat(Tokens.sameDigest(credential.sha256(), Tokens.sha256(token(output)))).isTrue();
  }

  @Test
  void everyRunPrintsANewToken() {
    assertThat(token(run("--name", "a"))).isNotEqualTo(token(run("--name", "a")));
  }

  @Test
  void missingOrBadArgumentsAreRefused() {
    assertThatThrownBy(() -> run()).hasMessageContaining("--name is required");
    assertThatThrownBy(() -> run("--name")).hasMessageContaining("--name needs a value");
    assertThatThrownBy(() -> run("--name", "a", "--root")).hasMessageContaining("unknown option '--root'");
    assertThatThrownBy(() -> run("--name", "has space")).hasMessageContaining("name 'has space'");
    assertThatThrownBy(() -> run("--name", "a", "--owner", "x/y")).hasMessageContaining("owner 'x/y'");
  }
}
