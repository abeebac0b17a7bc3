package warmgate.job;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Job ids. An S3-sourced id is a digest of the upload's identity, so a notification that S3 delivers
 * twice (it promises at-least-once) reaches the same entity, while a re-upload with new content, which
 * has a new eTag, becomes a new job.
 */
public final class JobIds {
  private static final Pattern VALID = Pattern.compile("[a-z0-9][a-z0-9-]{0,79}");

  private JobIds() {}

  /**
   * The id of the job started by an upload. The content's eTag comes first: every route reports it (S3 events,
   * SNS, EventBridge, SQS, and the folder watcher, which has no versions), so one upload gets one id whichever
   * route reports it. In a versioned bucket a new version with the same bytes is therefore the same job (redrive
   * it with {@code POST /v1/jobs/{id}/retry}); the versionId only identifies an upload whose report has no eTag.
   *
   * @param versionId the object's version; used only when there is no eTag
   * @param eTag the object's eTag; quotes and case do not matter
   */
  public static String forUpload(String bucket, String key, String versionId, String eTag) {
    String identity;
    if (eTag != null && !eTag.isBlank()) {
      identity = "e:" + eTag.replace("\"", "").toLowerCase(Locale.ROOT);
    } else if (versionId != null && !versionId.isBlank() && !versionId.equals("null")) {
      identity = "v:" + versionId;
    } else {
      throw new IllegalArgumentException("an upload needs a versionId or an eTag to be identified");
    }
    return "s3-" + digest(bucket + '\n' + key + '\n' + identity);
  }

  /** The id of an HTTP job submitted with an {@code Idempotency-Key}, scoped by its owner. */
  public static String forIdempotencyKey(String owner, String idempotencyKey) {
    return "job-" + digest((owner == null ? "" : owner) + '\n' + idempotencyKey);
  }

  public static String random() {
    return "job-" + UUID.randomUUID().toString().replace("-", "");
  }

  public static boolean isValid(String id) {
    return id != null && VALID.matcher(id).matches();
  }

  private static String digest(String text) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      // 128 bits: collisions are out of reach, and the id stays short in URLs and logs.
      return HexFormat.of().formatHex(hash, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
