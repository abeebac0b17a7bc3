package warmgate.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

// Pure functions: token making, hashing, constant-time comparison and lookup; no HTTP.
class TokensTest {

  @Test
  void newTokenIs256RandomBitsInUrlSafeBase64WithAPrefix() {
    String token = Tokens.generate();

    assertThat(token).startsWith("wg_").matches("wg_[A-Za-z0-9_-]{43}");
    assertThat(Base64.getUrlDecoder().decode(token.substring(3))).hasSize(32);
    assertThat(Tokens.wellFormed(token)).isTrue();
  }

  @Test
  void newTokensDoNotRepeat() {
    Set<String> tokens = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      tokens.add(Tokens.generate());
    }
    assertThat(tokens).hasSize(1000);
  }

  @Test
  void hashIsTheSha256OfTheTokenInLowerCaseHex() {
    // FIPS 180-2's test vector for "abc".
    assertThat(Tokens.sha256Hex("abc")).isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }

  @Test
  void digestsAreEqualOnlyWhenEveryByteIsAndTheLengthsMatch() {
    byte[] a = Tokens.sha256("a");
    byte[] lastByteDiffers = a.clone();
    lastByteDiffers[31] ^= 1;

    assertThat(Tokens.sameDigest(a, Tokens.sha256("a"))).isTrue();
    assertThat(Tokens.sameDigest(a, lastByteDiffers)).isFalse();
    assertThat(Tokens.sameDigest(a, java.util.Arrays.copyOf(a, 31))).isFalse();
  }

  @Test
  void onlyRfc6750TokenCharactersAreWellFormed() {
    assertThat(Tokens.wellFormed("abc-._~+/DEF==")).isTrue();
    assertThat(Tokens.wellFormed("")).isFalse();
    assertThat(Tokens.wellFormed(null)).isFalse();
    assertThat(Tokens.wellFormed("a b")).isFalse();
    assertThat(Tokens.wellFormed("a\"b")).isFalse();
    assertThat(Tokens.wellFormed("=abc")).isFalse();
    assertThat(Tokens.wellFormed("a".repeat(601))).isFalse();
  }

  @Test
  void authenticatorFindsThePrincipalOfAKnownTokenOnly() {
    String alice = Tokens.generate();
    String admin = Tokens.generate();
    var authenticator = Authenticator.of(new AuthSettings(true, false, List.of(
        new AuthSettings.Credential(new Principal("alice", "alice", false), Tokens.sha256(alice)),
        new AuthSettings.Credential(new Principal("ops", "ops", true), Tokens.sha256(admin)))));

    assertThat(authenticator.authenticate(alice)).hasValue(new Principal("alice", "alice", false));
    assertThat(authenticator.authenticate(admin)).hasValue(new Principal("ops", "ops", true));
    assertThat(authenticator.authenticate(Tokens.generate())).isEmpty();
    assertThat(authenticator.authenticate(alice.substring(0, alice.length() - 1))).isEmpty();
    assertThat(authenticator.authenticate(Tokens.sha256Hex(alice))).as("the stored hash is not a token").isEmpty();
    assertThat(authenticator.authenticate("has space")).isEmpty();
    assertThat(authenticator.enabled()).isTrue();
    assertThat(Authenticator.disabled().enabled()).isFalse();
    assertThat(Authenticator.disabled().authenticate(alice)).isEqualTo(Optional.empty());
  }

  @Test
  void userSubmitsAsItsOwnerOnlyAndAdminAsAnyone() {
    var alice = new Principal("alice-laptop", "alice", false);
    var admin = new Principal("ops", "ops", true);

    assertThat(alice.ownerOfSubmission(null)).isEqualTo("alice");
    assertThat(alice.ownerOfSubmission("alice")).isEqualTo("alice");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> alice.ownerOfSubmission("bob"))
        .isInstanceOf(Forbidden.class).hasMessageContaining("alice-laptop");
    assertThat(admin.ownerOfSubmission("bob")).isEqualTo("bob");
    assertThat(admin.ownerOfSubmission(null)).isEqualTo("ops");
    assertThat(alice.mayAccess("alice")).isTrue();
    assertThat(alice.mayAccess("bob")).isFalse();
    assertThat(alice.mayAccess(null)).as("jobs from before tokens, or with no owner, are the admins'").isFalse();
    assertThat(admin.mayAccess(null)).isTrue();
  }
}
