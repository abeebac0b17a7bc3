package warmgate.e2e;

import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * A real S3 wire-protocol server (S3Proxy over an in-memory store) in the test's JVM, and an SDK client of its own
 * for what the test and the SageMaker stand-in's model read and write there. Objects are sent whole (PutObject): no
 * multipart, no CRT, which S3Proxy does not need to serve here.
 */
public final class S3Server implements AutoCloseable {
  public static final String ACCESS_KEY = "s3-test-access";
  public static final String SECRET_KEY = "s3-test-secret";
  public static final String REGION = "us-east-1";

  private final TransientNio2BlobStore backend = new TransientNio2BlobStore();
  private final S3Proxy proxy;
  private final S3AsyncClient client;

  private S3Server(String... buckets) throws Exception {
    proxy = S3Proxy.builder()
        .blobStore(backend)
        .endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
        // The SDK sends headers S3Proxy does not know (checksum algorithm, SDK retry info).
        .ignoreUnknownHeaders(true)
        .build();
    proxy.start();
    Await.until(Duration.ofSeconds(30), "S3Proxy to start", () -> proxy.getState().equals("STARTED"));
    for (String bucket : buckets) {
      backend.createContainer(bucket);
    }
    client = client(url(), ACCESS_KEY, SECRET_KEY);
  }

  /** An SDK client for an S3-compatible server at {@code url}, path-style: this one, or S3Proxy in a container. */
  public static S3AsyncClient client(String url, String accessKey, String secretKey) {
    return S3AsyncClient.builder()
        .httpClientBuilder(NettyNioAsyncHttpClient.builder())
        .region(Region.of(REGION))
        .forcePathStyle(true)
        .endpointOverride(URI.create(url))
        // As Warmgate's own store does against S3-compatible servers: no aws-chunked CRC32 trailers.
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
        .build();
  }

  public static S3Server start(String... buckets) {
    try {
      return new S3Server(buckets);
    } catch (Exception e) {
      throw new IllegalStateException("S3Proxy did not start", e);
    }
  }

  public String url() {
    return "http://127.0.0.1:" + proxy.getPort();
  }

  /** The node's {@code warmgate.blob-store} settings for this server. */
  Map<String, Object> blobStoreSettings() {
    Map<String, Object> settings = new HashMap<>();
    settings.put("warmgate.blob-store.kind", "s3");
    settings.put("warmgate.blob-store.s3.endpoint-override", url());
    settings.put("warmgate.blob-store.s3.path-style", true);
    settings.put("warmgate.blob-store.s3.region", REGION);
    settings.put("warmgate.blob-store.s3.access-key-id", ACCESS_KEY);
    settings.put("warmgate.blob-store.s3.secret-access-key", SECRET_KEY);
    return settings;
  }

  public void put(String bucket, String key, byte[] body, String contentType) {
    client.putObject(r -> r.bucket(bucket).key(key).contentType(contentType), AsyncRequestBody.fromBytes(body))
        .join();
  }

  /** The object's bytes; empty when there is none. */
  public Optional<byte[]> get(String bucket, String key) {
    try {
      return Optional.of(client.getObject(r -> r.bucket(bucket).key(key), AsyncResponseTransformer.toBytes()).join()
          .asByteArray());
    } catch (CompletionException e) {
      if (e.getCause() instanceof NoSuchKeyException) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** The object's user metadata (lower-case names, without {@code x-amz-meta-}). */
  Map<String, String> metadata(String bucket, String key) {
    return client.headObject(r -> r.bucket(bucket).key(key)).join().metadata();
  }

  /** {@code s3://bucket/key} split at the first slash after the bucket. */
  static String[] split(String s3Uri) {
    if (!s3Uri.startsWith("s3://") || s3Uri.indexOf('/', 5) < 0) {
      throw new IllegalArgumentException("not an s3://bucket/key URI: " + s3Uri);
    }
    int slash = s3Uri.indexOf('/', 5);
    return new String[] {s3Uri.substring(5, slash), s3Uri.substring(slash + 1)};
  }

  @Override
  public void close() throws Exception {
    client.close();
    proxy.stop();
  }
}
