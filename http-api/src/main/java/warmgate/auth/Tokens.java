package warmgate.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Bearer tokens: made from 256 random bits, kept at rest only as their SHA-256, compared in constant time.
 *
 * <p>A plain hash, not a password hash (bcrypt, Argon2), is enough here: a password hash is slow to make
 * guessing a low-entropy secret expensive, but a 256-bit random token cannot be guessed at any speed, so
 * slowing each check would only cost every request time and give an attacker a cheap way to burn CPU.
 */
public final class Tokens {
  /** Marks Warmgate's tokens, so secret scanners and people can tell what a leaked string is. */
  public static final String PREFIX = "wg_";
  public static final int RANDOM_BYTES = 32;
  /** RFC 6750's b64token, bounded so a huge header is refused before it is hashed. */
  private static final Pattern SYNTAX = Pattern.compile("[A-Za-z0-9\\-._~+/]{1,512}=*");
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");

  private Tokens() {}

  /** A new token: {@code wg_} and 256 random bits in URL-safe base64 without padding (43 characters). */
  public static String generate() {
    byte[] bytes = new byte[RANDOM_BYTES];
    RANDOM.nextBytes(bytes);
    return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** Whether {@code token} can be a bearer token at all; anything else is refused without a lookup. */
  public static boolean wellFormed(String token) {
    return token != null && token.length() <= 600 && SYNTAX.matcher(token).matches();
  }

  public static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /** Whether {@code text} is a SHA-256 written as 64 hex digits, as configured hashes of tokens and keys are. */
  public static boolean isSha256Hex(String text) {
    return SHA256_HEX.matcher(text).matches();
  }

  public static String sha256Hex(String token) {
    return HexFormat.of().formatHex(sha256(token));
  }

  /**
   * Equal digests, in time that does not depend on where they differ ({@link MessageDigest#isEqual} has
   * been constant-time since JDK 6u17), so response times do not leak how much of a hash was guessed.
   */
  public static boolean sameDigest(byte[] a, byte[] b) {
    return MessageDigest.isEqual(a, b);
  }
}
