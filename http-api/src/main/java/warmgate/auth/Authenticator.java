package warmgate.auth;

import java.util.List;
import java.util.Optional;

/** Tells which principal a bearer token stands for, if any; knows tokens only by their SHA-256. */
public final class Authenticator {
  private final boolean enabled;
  private final List<AuthSettings.Credential> credentials;

  private Authenticator(boolean enabled, List<AuthSettings.Credential> credentials) {
    this.enabled = enabled;
    this.credentials = List.copyOf(credentials);
  }

  public static Authenticator of(AuthSettings settings) {
    return new Authenticator(settings.enabled(), settings.credentials());
  }

  /** Every request is {@link Principal#UNAUTHENTICATED}: the loopback-only demo, or behind a proxy that authenticates.
   * */
  public static Authenticator disabled() {
    return new Authenticator(false, List.of());
  }

  public boolean enabled() {
    return enabled;
  }

  /**
   * The principal of {@code token}, or empty for a malformed or unknown one. Every configured hash is
   * compared, each in constant time, and none is skipped once one matched, so the time taken says
   * nothing about which token, or how much of one, was right.
   */
  public Optional<Principal> authenticate(String token) {
    if (!Tokens.wellFormed(token)) {
      return Optional.empty();
    }
    byte[] presented = Tokens.sha256(token);
    Principal found = null;
    for (AuthSettings.Credential credential : credentials) {
      if (Tokens.sameDigest(presented, credential.sha256())) {
        found = credential.principal();
      }
    }
    return Optional.ofNullable(found);
  }
}
