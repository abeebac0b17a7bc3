package warmgate.blob.s3;

import java.net.URI;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
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

  private final S3AsyncClient client;

  /** Takes ownership of {@code client}: {@link #close()} closes it. */
  public S3BlobStore(S3AsyncClient client) {
    this.client = client;
  }

  /**
   * A store on a client built from {@code warmgate.blob-store.s3}: region, endpoint override, path-style access,
   * and static credentials when both keys are given (otherwise the SDK's default chain: environment, profile,
   * web identity, container and instance roles).
   */
  public static S3BlobStore create(BlobStoreSettings settings) {
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
    return new S3BlobStore(builder.build());
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

  @Override
  public CompletionStage<BlobInfo> copy(ObjectRef from, ObjectRef to, Map<String, String> metadata) {
    throw new UnsupportedOperationException("TODO(issue 15): CopyObject, multipart copy above 5 GB");
  }

  @Override
  public void close() {
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

  private static boolean isNotFound(Throwable t) {
    return t instanceof NoSuchKeyException
        || t instanceof NoSuchBucketException
        || (t instanceof S3Exception s3 && s3.statusCode() == 404);
  }

}
