package warmgate.ingest.sns;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import warmgate.Failures;

/**
 * The two GETs Warmgate makes on an SNS message's behalf, with {@link java.net.http.HttpClient}: redirects
 * are never followed (a redirect could lead off SNS's host), connecting and answering are each bounded in
 * time so the whole exchange fits in SNS's 15 s delivery timeout, and a body larger than the limit is cut
 * off rather than buffered.
 */
public final class AwsHttp implements CertificateFetcher, SubscriptionConfirmer {
  private final HttpClient client;
  private final Duration requestTimeout;
  private final int maxBodyBytes;

  public AwsHttp(Duration connectTimeout, Duration requestTimeout, int maxBodyBytes) {
    this.client = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(connectTimeout)
        .version(HttpClient.Version.HTTP_1_1)
        .build();
    this.requestTimeout = requestTimeout;
    this.maxBodyBytes = maxBodyBytes;
  }

  @Override
  public CompletionStage<byte[]> fetch(URI url) {
    return get(url).handle((response, failure) -> {
      if (failure != null) {
        throw unavailable("certificate_unavailable", "the signing certificate could not be fetched", failure);
      }
      if (response.statusCode() != 200) {
        throw new SnsUnavailable("certificate_unavailable",
            "the signing certificate URL answered HTTP " + response.statusCode(), true, null);
      }
      return response.body();
    });
  }

  @Override
  public CompletionStage<Void> confirm(URI subscribeUrl) {
    return get(subscribeUrl).handle((response, failure) -> {
      if (failure != null) {
        throw unavailable("confirmation_unavailable", "SNS could not be reached to confirm the subscription", failure);
      }
      if (response.statusCode() / 100 != 2) {
        throw new SnsUnavailable("confirmation_failed",
            "SNS answered HTTP " + response.statusCode() + " to the subscription confirmation", true, null);
      }
      return null;
    });
  }

  private CompletableFuture<HttpResponse<byte[]>> get(URI url) {
    HttpRequest request = HttpRequest.newBuilder(url).GET().timeout(requestTimeout).header("User-Agent",
        "warmgate").build();
    return client.sendAsync(request, info -> info.statusCode() / 100 == 2
        ? new Bounded(maxBodyBytes)
        : HttpResponse.BodySubscribers.replacing(new byte[0]));
  }

  private SnsUnavailable unavailable(String code, String message, Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    if (cause instanceof TooLarge) {
      return new SnsUnavailable(code, message + ": the answer is larger than " + maxBodyBytes + " bytes", true, cause);
    }
    String why = cause instanceof java.net.http.HttpTimeoutException ? "no answer in time"
        : String.valueOf(cause.getMessage());
    return new SnsUnavailable(code, message + " (" + why + ")", false, cause);
  }

  /** Thrown inside the body subscriber when the answer passes the limit. */
  private static final class TooLarge extends IOException {
    TooLarge() {
      super("the answer is too large", null);
    }
  }

  /** Collects the body up to a limit and cancels the exchange past it. */
  private static final class Bounded implements HttpResponse.BodySubscriber<byte[]> {
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final int max;
    private Flow.Subscription subscription;

    Bounded(int max) {
      this.max = max;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      this.subscription = subscription;
      subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer buffer : buffers) {
        if ((long) out.size() + buffer.remaining() > max) {
          subscription.cancel();
          result.completeExceptionally(new TooLarge());
          return;
        }
        byte[] chunk = new byte[buffer.remaining()];
        buffer.get(chunk);
        out.write(chunk, 0, chunk.length);
      }
    }

    @Override
    public void onError(Throwable throwable) {
      result.completeExceptionally(throwable);
    }

    @Override
    public void onComplete() {
      result.complete(out.toByteArray());
    }
  }
}
