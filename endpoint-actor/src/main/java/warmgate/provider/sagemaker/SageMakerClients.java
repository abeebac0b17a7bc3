package warmgate.provider.sagemaker;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.async.SdkAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sagemaker.SageMakerAsyncClient;
import software.amazon.awssdk.services.sagemakerruntime.SageMakerRuntimeAsyncClient;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * The AWS SDK clients for SageMaker, one pair per {@link Connection}, all on one Netty HTTP client, so that
 * many configured endpoints in one account and region share connections and threads. Closing it closes them
 * all; the endpoints bound to it are unusable afterwards.
 */
public final class SageMakerClients implements AutoCloseable {

  /**
   * Bounds a control-plane call (describe, create, delete): they answer in well under a second, and the
   * lifecycle actor polls again anyway. Invocations carry their own timeout, {@code invoke-timeout}.
   */
  static final Duration CONTROL_PLANE_TIMEOUT = Duration.ofSeconds(30);

  /** Longest real-time invocation SageMaker allows; only a default, each invocation sets its own. */
  private static final Duration RUNTIME_DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  /**
   * Where and as whom to call SageMaker.
   *
   * @param endpointOverride the service URL, or null for AWS itself
   * @param accessKeyId with {@code secretAccessKey} static credentials, or both null for the SDK's default chain
   */
  public record Connection(String region, URI endpointOverride, String accessKeyId, String secretAccessKey) {
    public Connection {
      if (region == null || region.isBlank()) {
        throw new IllegalArgumentException("a SageMaker region is required");
      }
      if ((accessKeyId == null) != (secretAccessKey == null)) {
        throw new IllegalArgumentException("access-key-id and secret-access-key go together: set both or neither");
      }
    }

    /** Never shows the secret: connections end up in logs and error messages. */
    @Override
    public String toString() {
      return "Connection[region=" + region + ", endpointOverride=" + endpointOverride
          + ", credentials=" + (accessKeyId == null ? "default chain" : "static " + accessKeyId) + "]";
    }
  }

  private record Pair(SageMakerAsyncClient control, SageMakerRuntimeAsyncClient runtime) {}

  private final SdkAsyncHttpClient http;
  private final Map<Connection, Pair> clients = new ConcurrentHashMap<>();
  private volatile DefaultCredentialsProvider defaultCredentials;
  private volatile boolean closed;

  public SageMakerClients() {
    this.http = NettyNioAsyncHttpClient.builder()
        // Netty's 30 s read timeout would cut off an invocation with a longer invoke-timeout; every call
        // is bounded by the SDK's apiCallTimeout instead.
        .readTimeout(Duration.ZERO)
        .connectionTimeout(Duration.ofSeconds(5))
        .connectionAcquisitionTimeout(Duration.ofSeconds(30))
        .maxConcurrency(200)
        .build();
  }

  /** The control-plane client (CreateEndpoint, DescribeEndpoint, DeleteEndpoint) for {@code connection}. */
  public SageMakerAsyncClient controlPlane(Connection connection) {
    return pair(connection).control();
  }

  /** The runtime client (InvokeEndpoint) for {@code connection}. */
  public SageMakerRuntimeAsyncClient runtime(Connection connection) {
    return pair(connection).runtime();
  }

  private Pair pair(Connection connection) {
    if (closed) {
      throw new IllegalStateException("SageMaker clients are closed");
    }
    return clients.computeIfAbsent(connection, this::create);
  }

  private Pair create(Connection c) {
    AwsCredentialsProvider credentials = c.accessKeyId() == null
        ? defaultCredentials()
        : StaticCredentialsProvider.create(AwsBasicCredentials.create(c.accessKeyId(), c.secretAccessKey()));
    var control = SageMakerAsyncClient.builder()
        .httpClient(http)
        .region(Region.of(c.region()))
        .credentialsProvider(credentials)
        .overrideConfiguration(overrides(CONTROL_PLANE_TIMEOUT));
    var runtime = SageMakerRuntimeAsyncClient.builder()
        .httpClient(http)
        .region(Region.of(c.region()))
        .credentialsProvider(credentials)
        .overrideConfiguration(overrides(RUNTIME_DEFAULT_TIMEOUT));
    if (c.endpointOverride() != null) {
      control.endpointOverride(c.endpointOverride());
      runtime.endpointOverride(c.endpointOverride());
    }
    return new Pair(control.build(), runtime.build());
  }

  /**
   * At most one SDK retry. Warmgate retries failed jobs itself with backoff against the job's deadline, and
   * the lifecycle actor re-describes on its own schedule; the SDK's default three retries would stack
   * under that, multiplying latency and load on a struggling endpoint. The one retry is kept for what only
   * the SDK sees cheaply: a pooled connection the server had already closed. The circuit breaker is off
   * because its token bucket is per client, and all endpoints of a connection share one: one failing
   * endpoint would otherwise change how the others retry.
   */
  private static ClientOverrideConfiguration overrides(Duration apiCallTimeout) {
    return ClientOverrideConfiguration.builder()
        .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(2).circuitBreakerEnabled(false)
            .build())
        .apiCallTimeout(apiCallTimeout)
        .build();
  }

  private synchronized AwsCredentialsProvider defaultCredentials() {
    if (defaultCredentials == null) {
      defaultCredentials = DefaultCredentialsProvider.builder().build();
    }
    return defaultCredentials;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    List<SdkAutoCloseable> toClose = new ArrayList<>();
    clients.values().forEach(p -> {
      toClose.add(p.control());
      toClose.add(p.runtime());
    });
    clients.clear();
    if (defaultCredentials != null) {
      toClose.add(defaultCredentials);
    }
    // The SDK clients do not close an HTTP client they were handed; it goes last.
    toClose.add(http);
    RuntimeException first = null;
    for (SdkAutoCloseable c : toClose) {
      try {
        c.close();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
