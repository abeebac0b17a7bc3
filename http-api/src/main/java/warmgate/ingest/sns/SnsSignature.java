package warmgate.ingest.sns;

import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.security.Signature;
import java.security.SignatureException;
import java.security.cert.X509Certificate;

/** Checks an SNS message's {@code Signature} over its string to sign with the signing certificate's key. */
public final class SnsSignature {
  private SnsSignature() {}

  /** {@code SignatureVersion} 1 is SHA1withRSA, 2 is SHA256withRSA; any other version is refused. */
  public static String algorithm(String signatureVersion) {
    return switch (signatureVersion) {
      case "1" -> "SHA1withRSA";
      case "2" -> "SHA256withRSA";
      default -> throw new SnsRefused("unsupported_signature_version",
          "SignatureVersion '" + signatureVersion + "' is not 1 or 2; the message cannot be verified");
    };
  }

  /** Returns normally only when {@code certificate}'s key signed exactly this message's signed fields. */
  public static void verify(SnsMessage message, X509Certificate certificate) {
    String algorithm = algorithm(message.signatureVersion());
    boolean valid;
    try {
      Signature signature = Signature.getInstance(algorithm);
      signature.initVerify(certificate.getPublicKey());
      signature.update(message.stringToSign());
      valid = signature.verify(message.signatureBytes());
    } catch (InvalidKeyException e) {
      throw new SnsRefused("untrusted_certificate", "the signing certificate's key cannot check an RSA signature");
    } catch (SignatureException e) {
      valid = false;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(algorithm + " is missing from this JVM", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the signature could not be checked", e);
    }
    if (!valid) {
      throw new SnsRefused("invalid_signature",
          "the signature does not match the message: it was changed after SNS signed it, or SNS did not sign it");
    }
  }
}
