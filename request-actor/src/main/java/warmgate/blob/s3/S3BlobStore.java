package warmgate.blob.s3;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import warmgate.Failures;
import warmgate.blob.Blob;
import warmgate.blob.BlobInfo;
import warmgate.blob.BlobNotFoundException;
import warmgate.blob.BlobRefusedException;
import warmgate.blob.BlobStore;
import warmgate.blob.Md5;
import warmgate.blob.local.LocalBlobStore;
import warmgate.config.BlobStoreSettings;
import warmgate.job.ObjectRef;

/**
 * The production store: S3, or an S3-compatible server, through the SDK's async client on Netty. Objects are
 * written with a single PutObject; the payloads here (images, meshes) are far below the size where multipart
 * would pay off. Stages fail with the SDK's own exception (or {@link BlobNotFoundException}, or
 * {@link BlobRefusedException} for an answer that will never change, see {@link #isRefusal}), not wrapped in a
 * {@code CompletionException}.
 *
 * <p>{@link #copy} never moves the bytes through Warmgate. Up to 5 GiB it is one {@code CopyObject}: that is S3's
 * limit for a single copy (a larger source is answered {@code InvalidRequest}, "The specified copy source is larger
 * than the maximum allowable size for a copy source: 5368709120"). Above it, a multipart copy: one upload, the source
 * copied into it range by range with {@code UploadPartCopy}, and the upload completed, or aborted when a part fails.
 * Both read the source only if it still has the eTag its HEAD showed, so the copy is of the object that HEAD
 * described; a source replaced meanwhile fails the copy with 412 PreconditionFailed, which a retry gets past.
 */
public final class S3BlobStore implements BlobStore, AutoCloseable {
  /**
   * Error codes that say the request itself can never succeed: the bucket does not exist or cannot, the key is
   * too long or malformed, the object too large. Others of status 400 are not on the list because they pass
   * (RequestTimeout, ExpiredToken, BadDigest, IncompleteBody).
   */
  static final Set<String> REFUSAL_CODES = Set.of(
      "NoSuchBucket", "InvalidBucketName", "KeyTooLongError", "InvalidArgument", "InvalidURI", "InvalidObjectName",
      "EntityTooLarge", "MetadataTooLarge");

  /** S3's largest source for one {@code CopyObject}, and its largest part: 5 GiB. */
  static final long MAX_COPY_OBJECT_SIZE = 5L * 1024 * 1024 * 1024;
  /** Large parts: a part copy moves no bytes through Warmgate, and fewer parts are fewer requests. */
  static final long DEFAULT_COPY_PART_SIZE = 512L * 1024 * 1024;
  /** S3 numbers the parts of an upload 1 to 10,000; larger objects get larger parts. */
  static final int MAX_PARTS = 10_000;
  /** Part copies in flight at once for one multipart copy. */
  static final int PART_COPIES_IN_FLIGHT = 4;

  private final S3AsyncClient client;
  /** Where streamed uploads are spooled to a file: blocking reads, kept off the SDK's and Pekko's threads. */
  private final ExecutorService spooler = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "s3-spool");
    t.setDaemon(true);
    return t;
  });
  private final long copyThreshold;
  private final long copyPartSize;

  /** Takes ownership of {@code client}: {@link #close()} closes it. */
  public S3BlobStore(S3AsyncClient client) {
    this(client, MAX_COPY_OBJECT_SIZE, DEFAULT_COPY_PART_SIZE);
  }

  /**
   * A store whose {@link #copy} uses one {@code CopyObject} up to {@code copyThreshold} bytes and a multipart copy
   * in parts of {@code copyPartSize} above it, so tests reach the multipart path with small objects. S3 refuses
   * parts under 5 MiB but the last when the upload completes; that is not checked here.
   */
  S3BlobStore(S3AsyncClient client, long copyThreshold, long copyPartSize) {
    if (copyThreshold < 0 || copyThreshold > MAX_COPY_OBJECT_SIZE) {
      throw new IllegalArgumentException("copy threshold must be between 0 and 5 GiB, not " + copyThreshold);
    }
    if (copyPartSize <= 0 || copyPartSize > MAX_COPY_OBJECT_SIZE) {
      throw new IllegalArgumentException("copy part size must be between 1 byte and 5 GiB, not " + copyPartSize);
    }
    this.client = client;
    this.copyThreshold = copyThreshold;
    this.copyPartSize = copyPartSize;
  }

  /**
   * A store on a client built from {@code warmgate.blob-store.s3}: region, endpoint override, path-style access,
   * and static credentials when both keys are given (otherwise the SDK's default chain: environment, profile,
   * web identity, container and instance roles).
   */
  public static S3BlobStore create(BlobStoreSettings settings) {
    return new S3BlobStore(client(settings));
  }

  /** The client {@link #create} builds its store on. */
  static S3AsyncClient client(BlobStoreSettings settings) {
    if (settings.s3AccessKeyId().isPresent() != settings.s3SecretAccessKey().isPresent()) {
      throw new IllegalArgumentException(
          "warmgate.blob-store.s3 needs both access-key-id and secret-access-key, or neither for the default chain");
    }
    S3AsyncClientBuilder builder = S3AsyncClient.builder()
        .httpClientBuilder(NettyNioAsyncHttpClient.builder())
        .region(Region.of(settings.s3Region()))
        .forcePathStyle(settings.s3PathStyle());
    if (settings.s3EndpointOverride().isPresent()) {
      builder.endpointOverride(URI.create(settings.s3EndpointOverride().get()));
      // Since SDK 2.30 every upload carries a CRC32 trailer in aws-chunked encoding and every download is checked
      // against a checksum header. AWS supports both; S3-compatible servers often do not (S3Proxy 4.1.0 accepts the
      // trailer, older MinIO, Ceph and GCS interop versions reject it). Integrity does not depend on it: put sends
      // Content-MD5, which every S3 implementation verifies.
      builder.requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED);
      builder.responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    }
    if (settings.s3AccessKeyId().isPresent()) {
      builder.credentialsProvider(StaticCredentialsProvider.create(
          AwsBasicCredentials.create(settings.s3AccessKeyId().get(), settings.s3SecretAccessKey().get())));
    }
    return builder.build();
  }

  @Override
  public CompletionStage<Void> delete(ObjectRef ref) {
    CompletableFuture<Void> result = new CompletableFuture<>();
    client.deleteObject(b -> b.bucket(ref.bucket()).key(ref.key())).whenComplete((response, failure) -> {
      if (failure == null || isNotFound(Failures.unwrap(failure))) {
        result.complete(null);
      } else {
        result.completeExceptionally(classify(ref, failure));
      }
    });
    return result;
  }

  @Override
  public CompletionStage<Optional<BlobInfo>> head(ObjectRef ref) {
    CompletableFuture<Optional<BlobInfo>> result = new CompletableFuture<>();
    client.headObject(b -> b.bucket(ref.bucket()).key(ref.key())).whenComplete((response, failure) -> {
      if (failure == null) {
        result.complete(Optional.of(info(ref, response)));
      } else if (isNotFound(Failures.unwrap(failure))) {
        // HEAD has no body, so a missing object is a bare 404 that the SDK may or may not name NoSuchKey.
        result.complete(Optional.empty());
      } else {
        result.completeExceptionally(classify(ref, failure));
      }
    });
    return result;
  }

  @Override
  public CompletionStage<Blob> get(ObjectRef ref) {
    CompletableFuture<Blob> result = new CompletableFuture<>();
    client.getObject(b -> b.bucket(ref.bucket()).key(ref.key()), AsyncResponseTransformer.toBytes())
        .whenComplete((bytes, failure) -> {
          if (failure == null) {
            GetObjectResponse response = bytes.response();
            byte[] content = bytes.asByteArrayUnsafe();
            BlobInfo info = new BlobInfo(
                ref, content.length, eTag(response.eTag()), response.contentType(), response.metadata());
            result.complete(new Blob(info, content));
          } else if (isNotFound(Failures.unwrap(failure))) {
            // A missing bucket is as much the caller's mistake as a missing key.
            result.completeExceptionally(new BlobNotFoundException(ref));
          } else {
            result.completeExceptionally(classify(ref, failure));
          }
        });
    return result;
  }

  /** The object's body as it arrives: the SDK buffers a little ahead of the reader, never the whole object. */
  @Override
  public CompletionStage<InputStream> open(ObjectRef ref) {
    CompletableFuture<InputStream> result = new CompletableFuture<>();
    client.getObject(b -> b.bucket(ref.bucket()).key(ref.key()), AsyncResponseTransformer.toBlockingInputStream())
        .whenComplete((stream, failure) -> {
          if (failure == null) {
            result.complete(stream);
          } else if (isNotFound(Failures.unwrap(failure))) {
            result.completeExceptionally(new BlobNotFoundException(ref));
          } else {
            result.completeExceptionally(classify(ref, failure));
          }
        });
    return result;
  }

  /**
   * Spooled to a temporary file first (its MD5 and length on the way: a single {@code PutObject} needs both before
   * the first byte), then uploaded from the file, which is removed afterwards. The heap holds a buffer, not the object.
   */
  @Override
  public CompletionStage<BlobInfo> put(ObjectRef ref, InputStream content, String contentType,
      Map<String, String> metadata) {
    String type = contentType == null ? LocalBlobStore.DEFAULT_CONTENT_TYPE : contentType;
    Map<String, String> userMetadata = LocalBlobStore.lowerCaseKeys(metadata);
    return CompletableFuture.supplyAsync(() -> spool(content), spooler).thenCompose(spooled -> {
      CompletableFuture<BlobInfo> result = new CompletableFuture<>();
      client.putObject(
              b -> b.bucket(ref.bucket())
                  .key(ref.key())
                  .contentType(type)
                  .contentLength(spooled.size())
                  .contentMD5(Base64.getEncoder().encodeToString(spooled.md5()))
                  .metadata(userMetadata),
              AsyncRequestBody.fromFile(spooled.file()))
          .whenComplete((response, failure) -> {
            deleteQuietly(spooled.file());
            if (failure == null) {
              String eTag = response.eTag() != null ? eTag(response.eTag())
                  : java.util.HexFormat.of().formatHex(spooled.md5());
              result.complete(new BlobInfo(ref, spooled.size(), eTag, type, userMetadata));
            } else {
              result.completeExceptionally(classify(ref, failure));
            }
          });
      return result;
    });
  }

  private record Spooled(Path file, long size, byte[] md5) {}

  private static Spooled spool(InputStream content) {
    Path file = null;
    try (content) {
      file = Files.createTempFile("warmgate-put-", ".part");
      MessageDigest md5 = Md5.digest();
      long size = 0;
      byte[] chunk = new byte[64 * 1024];
      try (OutputStream out = Files.newOutputStream(file)) {
        for (int n = content.read(chunk); n >= 0; n = content.read(chunk)) {
          md5.update(chunk, 0, n);
          out.write(chunk, 0, n);
          size += n;
        }
      }
      return new Spooled(file, size, md5.digest());
    } catch (IOException e) {
      if (file != null) {
        deleteQuietly(file);
      }
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException ignored) {
      // a temporary file left behind; the system's temporary folder is cleaned by others
    }
  }

  @Override
  public CompletionStage<BlobInfo> put(ObjectRef ref, byte[] content, String contentType, Map<String,
      String> metadata) {
    String type = contentType == null ? LocalBlobStore.DEFAULT_CONTENT_TYPE : contentType;
    // S3 folds x-amz-meta-* names to lower case anyway; doing it here makes put's answer match a later head.
    Map<String, String> userMetadata = LocalBlobStore.lowerCaseKeys(metadata);
    CompletableFuture<BlobInfo> result = new CompletableFuture<>();
    client.putObject(
            b -> b.bucket(ref.bucket())
                .key(ref.key())
                .contentType(type)
                .contentLength((long) content.length)
                .contentMD5(Base64.getEncoder().encodeToString(Md5.raw(content)))
                .metadata(userMetadata),
            AsyncRequestBody.fromBytes(content))
        .whenComplete((response, failure) -> {
          if (failure == null) {
            // With SSE-KMS the eTag is not the MD5; S3's own answer is the one later heads will show.
            String eTag = response.eTag() != null ? eTag(response.eTag()) : Md5.hex(content);
            result.complete(new BlobInfo(ref, content.length, eTag, type, userMetadata));
          } else {
            result.completeExceptionally(classify(ref, failure));
          }
        });
    return result;
  }

  /**
   * HEAD of the source for its size, eTag and content type, then a {@code CopyObject} or, above the threshold, a
   * multipart copy (see the class comment). The copy has {@code metadata} (keys in lower case) in place of the
   * source's and keeps its content type; other headers (cache control, content encoding) and the storage class are
   * not carried over, and the tags only by a single {@code CopyObject}.
   */
  @Override
  public CompletionStage<BlobInfo> copy(ObjectRef from, ObjectRef to, Map<String, String> metadata) {
    Map<String, String> userMetadata = LocalBlobStore.lowerCaseKeys(metadata);
    CompletableFuture<BlobInfo> result = new CompletableFuture<>();
    client.headObject(b -> b.bucket(from.bucket()).key(from.key())).whenComplete((source, failure) -> {
      if (failure != null) {
        result.completeExceptionally(
            isNotFound(Failures.unwrap(failure)) ? new BlobNotFoundException(from) : classify(from, failure));
        return;
      }
      CompletableFuture<BlobInfo> copied;
      try {
        long size = source.contentLength() == null ? 0 : source.contentLength();
        copied = size <= copyThreshold
            ? copyObject(from, to, source, userMetadata)
            : copyInParts(from, to, source, size, userMetadata);
      } catch (RuntimeException e) {
        copied = CompletableFuture.failedFuture(e);
      }
      copied.whenComplete((info, copyFailure) -> {
        if (copyFailure == null) {
          result.complete(info);
        } else {
          result.completeExceptionally(copyFailure(from, to, copyFailure));
        }
      });
    });
    return result;
  }

  private CompletableFuture<BlobInfo> copyObject(
      ObjectRef from, ObjectRef to, HeadObjectResponse source, Map<String, String> metadata) {
    long size = source.contentLength() == null ? 0 : source.contentLength();
    return client.copyObject(b -> b.sourceBucket(from.bucket())
            .sourceKey(from.key())
            .copySourceIfMatch(source.eTag())
            .destinationBucket(to.bucket())
            .destinationKey(to.key())
            .metadataDirective(MetadataDirective.REPLACE)
            .contentType(source.contentType())
            .metadata(metadata))
        .thenApply(response -> new BlobInfo(
            to, size, eTag(response.copyObjectResult().eTag()), source.contentType(), metadata));
  }

  private CompletableFuture<BlobInfo> copyInParts(
      ObjectRef from, ObjectRef to, HeadObjectResponse source, long size, Map<String, String> metadata) {
    long partSize = Math.max(copyPartSize, (size + MAX_PARTS - 1) / MAX_PARTS);
    int parts = (int) ((size + partSize - 1) / partSize);
    return client.createMultipartUpload(b -> b.bucket(to.bucket())
            .key(to.key())
            .contentType(source.contentType())
            .metadata(metadata))
        .thenCompose(upload -> {
          String uploadId = upload.uploadId();
          PartCopies copies = new PartCopies(from, to, source.eTag(), uploadId, size, partSize, parts);
          return copies.run()
              .thenCompose(completed -> client.completeMultipartUpload(b -> b.bucket(to.bucket())
                  .key(to.key())
                  .uploadId(uploadId)
                  .multipartUpload(m -> m.parts(completed))))
              .handle((done, failure) -> {
                if (failure == null) {
                  return CompletableFuture.completedFuture(
                      new BlobInfo(to, size, eTag(done.eTag()), source.contentType(), metadata));
                }
                return abort(to, uploadId, failure);
              })
              .thenCompose(stage -> stage);
        });
  }

  /** Aborts the upload (its parts are stored and billed until then), then fails with {@code failure}. */
  private CompletableFuture<BlobInfo> abort(ObjectRef to, String uploadId, Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    return client.abortMultipartUpload(b -> b.bucket(to.bucket()).key(to.key()).uploadId(uploadId))
        .handle((aborted, abortFailure) -> {
          if (abortFailure != null) {
            // Left to the bucket's lifecycle rule for incomplete uploads; the copy's own failure is the one to report.
            cause.addSuppressed(Failures.unwrap(abortFailure));
          }
          return CompletableFuture.<BlobInfo>failedFuture(cause);
        })
        .thenCompose(stage -> stage);
  }

  /**
   * The {@code UploadPartCopy} calls of one multipart copy, {@link #PART_COPIES_IN_FLIGHT} lanes each copying its
   * parts one after another; after a failure no lane starts another part.
   */
  private final class PartCopies {
    private final ObjectRef from;
    private final ObjectRef to;
    private final String sourceETag;
    private final String uploadId;
    private final long size;
    private final long partSize;
    private final int parts;
    private final ConcurrentLinkedQueue<CompletedPart> completed = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean failed = new AtomicBoolean();

    PartCopies(ObjectRef from, ObjectRef to, String sourceETag, String uploadId, long size, long partSize, int parts) {
      this.from = from;
      this.to = to;
      this.sourceETag = sourceETag;
      this.uploadId = uploadId;
      this.size = size;
      this.partSize = partSize;
      this.parts = parts;
    }

    /** The parts in order of their numbers, or the first failure once every lane has stopped. */
    CompletableFuture<List<CompletedPart>> run() {
      List<CompletableFuture<Void>> lanes = new ArrayList<>();
      for (int lane = 1; lane <= Math.min(PART_COPIES_IN_FLIGHT, parts); lane++) {
        lanes.add(lane(lane));
      }
      return CompletableFuture.allOf(lanes.toArray(CompletableFuture[]::new)).thenApply(done -> {
        List<CompletedPart> sorted = new ArrayList<>(completed);
        sorted.sort(Comparator.comparing(CompletedPart::partNumber));
        return sorted;
      });
    }

    private CompletableFuture<Void> lane(int partNumber) {
      if (partNumber > parts || failed.get()) {
        return CompletableFuture.completedFuture(null);
      }
      long first = (partNumber - 1) * partSize;
      long last = Math.min(first + partSize, size) - 1;
      return client.uploadPartCopy(b -> b.sourceBucket(from.bucket())
              .sourceKey(from.key())
              .copySourceIfMatch(sourceETag)
              .copySourceRange("bytes=" + first + "-" + last)
              .destinationBucket(to.bucket())
              .destinationKey(to.key())
              .uploadId(uploadId)
              .partNumber(partNumber))
          .whenComplete((response, failure) -> {
            if (failure != null) {
              failed.set(true);
            }
          })
          .thenCompose(response -> {
            String eTag = response.copyPartResult().eTag();
            completed.add(CompletedPart.builder().partNumber(partNumber).eTag(eTag).build());
            return lane(partNumber + PART_COPIES_IN_FLIGHT);
          });
    }
  }

  @Override
  public void close() {
    spooler.shutdown();
    client.close();
  }

  private static BlobInfo info(ObjectRef ref, HeadObjectResponse response) {
    long size = response.contentLength() == null ? 0 : response.contentLength();
    return new BlobInfo(ref, size, eTag(response.eTag()), response.contentType(), response.metadata());
  }

  private static String eTag(String quoted) {
    return quoted == null ? null : quoted.replace("\"", "");
  }

  /** The SDK's failure, or {@link BlobRefusedException} when it is a {@link #isRefusal refusal}. */
  static Throwable classify(ObjectRef ref, Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    if (cause instanceof S3Exception s3 && isRefusal(s3)) {
      return new BlobRefusedException(ref, "S3 answered " + s3.statusCode() + " " + s3.awsErrorDetails().errorCode(),
          s3);
    }
    return cause;
  }

  /**
   * Whether S3 will give the same answer however often it is asked: a client error (4xx) whose code is one of
   * {@link #REFUSAL_CODES}. 403 (permissions can be granted), 408 and 429 (load) never are, and neither is any 5xx.
   */
  static boolean isRefusal(S3Exception e) {
    int status = e.statusCode();
    if (status < 400 || status >= 500 || status == 403 || status == 408 || status == 429) {
      return false;
    }
    String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    return code != null && REFUSAL_CODES.contains(code);
  }

  /**
   * A copy's failure after the source's HEAD: a missing key can only be the source, gone since (the destination's key
   * need not exist); anything else is {@link #classify classified} against the destination, whose bucket no HEAD
   * checked.
   */
  private static Throwable copyFailure(ObjectRef from, ObjectRef to, Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    if (cause instanceof NoSuchKeyException
        || (cause instanceof S3Exception s3 && s3.awsErrorDetails() != null
            && "NoSuchKey".equals(s3.awsErrorDetails().errorCode()))) {
      BlobNotFoundException notFound = new BlobNotFoundException(from);
      notFound.addSuppressed(cause);
      return notFound;
    }
    return classify(to, cause);
  }

  private static boolean isNotFound(Throwable t) {
    return t instanceof NoSuchKeyException
        || t instanceof NoSuchBucketException
        || (t instanceof S3Exception s3 && s3.statusCode() == 404);
  }

}
