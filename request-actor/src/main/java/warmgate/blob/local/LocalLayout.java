package warmgate.blob.local;

import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import warmgate.blob.BlobRefusedException;
import warmgate.job.ObjectKeys;
import warmgate.job.ObjectRef;

/**
 * How the local store lays objects out under its root: {@code <root>/<bucket>/<key>} for content and
 * {@code <root>/.warmgate/meta/<bucket>/<xx>/<sha-256 of key>.json} for what S3 would keep beside it. The store
 * and the watcher share it so that they agree on which files are a user's objects.
 *
 * <p>Sidecars are named by a digest of the key, not by the key itself: the keys {@code a} and {@code a.json/b}
 * would otherwise need {@code a.json} to be both a file and a folder, and a long last segment plus a suffix can
 * pass the file system's name limit.
 */
public final class LocalLayout {
  /** Hidden, and not a valid bucket name, so no bucket can ever collide with it. */
  public static final String PRIVATE_DIR = ".warmgate";

  private static final String TEMP_PREFIX = ".warmgate-";
  private static final String TEMP_SUFFIX = ".tmp";
  // Names that copy tools, browsers and editors give to files they have not finished writing.
  private static final String[] UNFINISHED_SUFFIXES = {".tmp", ".temp", ".part", ".partial", ".crdownload",
      ".download", ".swp", "~"};

  private final Path root;
  private final Path metaRoot;

  public LocalLayout(Path root) {
    this.root = root.toAbsolutePath().normalize();
    this.metaRoot = this.root.resolve(PRIVATE_DIR).resolve("meta");
  }

  public Path root() {
    return root;
  }

  /**
   * The file holding the object's content. Refuses ({@link BlobRefusedException}) any ref that breaks
   * {@link ObjectKeys}, naming the rule, and any that would still land outside its bucket folder.
   */
  public Path object(ObjectRef ref) {
    Optional<ObjectKeys.Violation> broken = ObjectKeys.check(ref.bucket(), ref.key());
    if (broken.isPresent()) {
      // Checked before any Path is built: an empty, "." or ".." segment either escapes the bucket or names a
      // different file than the key does, and '\' is a separator on some systems.
      throw new BlobRefusedException(ref, broken.get().toString());
    }
    Path bucketDir = root.resolve(ref.bucket());
    Path file;
    try {
      file = bucketDir.resolve(ref.key()).normalize();
    } catch (InvalidPathException e) {
      throw new BlobRefusedException(ref, "the key is not a valid path on this file system: " + e.getReason());
    }
    // Belt and braces: whatever the checks above missed, a file outside the bucket folder is never handed out.
    if (!file.startsWith(bucketDir) || file.equals(bucketDir)) {
      throw new BlobRefusedException(ref, "the key would leave its bucket folder");
    }
    return file;
  }

  /** The sidecar holding the object's content type and user metadata. */
  public Path sidecar(ObjectRef ref) {
    object(ref);
    String digest = sha256Hex(ref.key());
    return metaRoot.resolve(ref.bucket()).resolve(digest.substring(0, 2)).resolve(digest + ".json");
  }

  /** A fresh name beside {@code target}, hidden so the watcher never reports a half-written file. */
  public static Path tempBeside(Path target) {
    byte[] random = new byte[8];
    ThreadLocalRandom.current().nextBytes(random);
    return target.resolveSibling(TEMP_PREFIX + HexFormat.of().formatHex(random) + TEMP_SUFFIX);
  }

  /** S3's rules for new bucket names; a folder that breaks them could never round-trip through an s3:// URI. */
  public static boolean isBucketName(String name) {
    return ObjectKeys.checkBucket(name).isEmpty();
  }

  /** Hidden files and folders, our own temp files and the usual names of files still being written. */
  public static boolean isIgnored(String fileName) {
    if (fileName.startsWith(".") || fileName.startsWith("~")) {
      return true;
    }
    String lower = fileName.toLowerCase(Locale.ROOT);
    for (String suffix : UNFINISHED_SUFFIXES) {
      if (lower.endsWith(suffix)) {
        return true;
      }
    }
    return false;
  }

  /** The S3 key of {@code file} inside {@code bucketDir}: its relative path with {@code /} separators. */
  public static String key(Path bucketDir, Path file) {
    Path relative = bucketDir.relativize(file);
    StringBuilder key = new StringBuilder();
    for (Path segment : relative) {
      if (key.length() > 0) {
        key.append('/');
      }
      key.append(segment);
    }
    return key.toString();
  }

  private static String sha256Hex(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
