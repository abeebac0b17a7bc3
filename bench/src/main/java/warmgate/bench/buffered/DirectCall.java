package warmgate.bench.buffered;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import warmgate.job.JobSpec;
import warmgate.job.ObjectRef;
import warmgate.request.InferenceStep;
import warmgate.testing.InMemoryBlobStore;

/**
 * The drain's baseline: the same work per job without Warmgate around it. {@link InferenceStep#run} reads the two
 * inputs from an in-memory bucket, builds the JSON payload, calls the same model (zero-work, or answering after the
 * same latency) and writes the output; no entity, no journal, no lifecycle, no slot.
 */
final class DirectCall {
  private final InMemoryBlobStore blobs = new InMemoryBlobStore();
  private final InferenceStep step;
  private final JobSpec[] specs;

  DirectCall(int jobs, int inputBytes, long modelMillis) {
    BufferedNode.Model model = new BufferedNode.Model(modelMillis);
    step = new InferenceStep(blobs, name -> model);
    byte[] image = new byte[inputBytes];
    byte[] mask = new byte[inputBytes];
    Arrays.fill(image, (byte) 'i');
    Arrays.fill(mask, (byte) 'm');
    specs = new JobSpec[jobs];
    for (int i = 0; i < jobs; i++) {
      ObjectRef imageRef = new ObjectRef("bench", "jobs/" + i + "_image.png");
      ObjectRef maskRef = new ObjectRef("bench", "jobs/" + i + "_mask.png");
      blobs.put(imageRef, image);
      blobs.put(maskRef, mask);
      specs[i] = new JobSpec(BufferedNode.ENDPOINT, "bench", Map.of("image", imageRef, "mask", maskRef),
          new ObjectRef("bench", "jobs/" + i + ".ply"), null, null, "http", false);
    }
  }

  /** One job's work, waited for. */
  void runOne(int i) {
    JobSpec spec = specs[i % specs.length];
    step.run("direct-" + i, 1, spec, spec.output(), () -> true).toCompletableFuture().join();
  }

  /** Jobs per second over every job, at most {@code concurrency} in flight at once (after a warm-up pass). */
  double rate(int concurrency) throws InterruptedException {
    pass(concurrency);
    long start = System.nanoTime();
    pass(concurrency);
    return specs.length / ((System.nanoTime() - start) / 1e9);
  }

  private void pass(int concurrency) throws InterruptedException {
    Semaphore slots = new Semaphore(concurrency);
    AtomicInteger failures = new AtomicInteger();
    for (int i = 0; i < specs.length; i++) {
      slots.acquire();
      JobSpec spec = specs[i];
      CompletableFuture<?> run = step.run("direct-" + i, 1, spec, spec.output(), () -> true).toCompletableFuture();
      run.whenComplete((ok, failure) -> {
        if (failure != null) {
          failures.incrementAndGet();
        }
        slots.release();
      });
    }
    slots.acquire(concurrency);
    if (failures.get() > 0) {
      throw new IllegalStateException(failures.get() + " direct calls failed");
    }
  }
}
