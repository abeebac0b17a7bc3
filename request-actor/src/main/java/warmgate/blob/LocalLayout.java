package warmgate.blob;

import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
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
final class LocalLayout {
  /** Hidden, and not a valid bucket name, so no bucket can ever collide with it. */
  static final String PRIVATE_DIR = ".warmgate";

  // S3's rules for new bucket names; a folder that breaks them could never round-trip through an s3:// URI.
  private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
  private static final String TEMP_PREFIX = ".warmgate-";
  private static final String TEMP_SUFFIX = ".tmp";
  // Names that copy tools, browsers and editors give to files they have not finished writing.
  private static final String[] UNFINISHED_SUFFIXES = {".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", "~"};

  private final Path root;
  private final Path metaRoot;

  LocalLayout(Path root) {
    this.root = root.toAbsolutePath().normalize();
    this.metaRoot = this.root.resolve(PRIVATE_DIR).resolve("meta");
  }

  Path root() {
    return root;
  }

  /** The file holding the object's content; refuses any ref that would land outside its bucket folder. */
  Path object(ObjectRef ref) {
    if (!isBucketName(ref.bucket())) {
      throw new IllegalArgumentException("'" + ref.bucket() + "' is not a valid bucket name");
    }
    String key = ref.key();
    // Checked segment by segment before any Path is built: an empty, "." or ".." segment either escapes
    // the bucket or names a different file than the key does, and '\' is a separator on some systems.
    if (key.isEmpty() || key.indexOf('\\') >= 0 || key.indexOf('\0') >= 0) {
      throw invalidKey(ref);
    }
    for (String segment : key.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw invalidKey(ref);
      }
    }
    Path bucketDir = root.resolve(ref.bucket());
    Path file;
    try {
      file = bucketDir.resolve(key).normalize();
    } catch (InvalidPathException e) {
      throw invalidKey(ref);
    }
    // Belt and braces: whatever the checks above missed, a file outside the bucket folder is never handed out.
    if (!file.startsWith(bucketDir) || file.equals(bucketDir)) {
      throw invalidKey(ref);
    }
    return file;
  }

  /** The sidecar holding the object's content type and user metadata. */
  Path sidecar(ObjectRef ref) {
    object(ref);
    String digest = sha256Hex(ref.key());
    return metaRoot.resolve(ref.bucket()).resolve(digest.substring(0, 2)).resolve(digest + ".json");
  }

  /** A fresh name beside {@code target}, hidden so the watcher never reports a half-written file. */
  static Path tempBeside(Path target) {
    byte[] random = new byte[8];
    ThreadLocalRandom.current().nextBytes(random);
    return target.resolveSibling(TEMP_PREFIX + HexFormat.of().formatHex(random) + TEMP_SUFFIX);
  }

  static boolean isBucketName(String name) {
    return BUCKET.matcher(name).matches() && !name.contains("..");
  }

  /** Hidden files and folders, our own temp files and the usual names of files still being written. */
  static boolean isIgnored(String fileName) {
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
  static String key(Path bucketDir, Path file) {
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
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private static IllegalArgumentException invalidKey(ObjectRef ref) {
    return new IllegalArgumentException(
        "key '" + ref.key() + "' cannot be stored as a file: it is empty, absolute, has empty, '.' or '..' segments, "
            + "or leaves its bucket folder");
  }
}
