package warmgate.provider.sagemaker;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** An {@link SageMakerStandIn.AsyncBackend} in memory: objects by URI, and the notifications published in order. */
public final class MemoryAsyncBackend implements SageMakerStandIn.AsyncBackend {

  /** One notification as SNS would have carried it. */
  public record Published(String topicArn, String message) {}

  /** An object and its content type. */
  public record StoredObject(byte[] body, String contentType) {}

  private final Map<String, StoredObject> objects = new ConcurrentHashMap<>();
  private final BlockingQueue<Published> published = new LinkedBlockingQueue<>();

  public MemoryAsyncBackend put(String s3Uri, byte[] body) {
    objects.put(s3Uri, new StoredObject(body.clone(), "application/octet-stream"));
    return this;
  }

  public Optional<StoredObject> object(String s3Uri) {
    return Optional.ofNullable(objects.get(s3Uri));
  }

  /** The next notification published, waiting up to {@code timeout}; empty if none came. */
  public Optional<Published> nextPublished(Duration timeout) {
    try {
      return Optional.ofNullable(published.poll(timeout.toMillis(), TimeUnit.MILLISECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  @Override
  public byte[] read(String s3Uri) {
    StoredObject object = objects.get(s3Uri);
    if (object == null) {
      throw new IllegalStateException("no object at " + s3Uri);
    }
    return object.body().clone();
  }

  @Override
  public void write(String s3Uri, byte[] body, String contentType) {
    objects.put(s3Uri, new StoredObject(body.clone(), contentType));
  }

  @Override
  public void publish(String topicArn, String message) {
    published.add(new Published(topicArn, message));
  }
}
