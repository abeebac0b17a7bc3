package warmgate.bench.cost;

import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * A trace's jobs as Gen3D uploads: each arrival of {@code images} is an image, and its mask follows after
 * {@code maskDelay} (or never, {@link #NEVER}). The job asks for a slot once its mask is there; with
 * {@code warm-on-first-input} it asks its endpoint to warm up when its image arrives.
 *
 * @param maskDelay per image, how long after it its mask arrives; {@link #NEVER} if it never does
 * @param delayShape how the delays were drawn, for the report
 */
record MaskedTrace(Trace images, long[] maskDelay, String delayShape) {
  static final long NEVER = -1;

  MaskedTrace {
    if (maskDelay.length != images.jobs()) {
      throw new IllegalArgumentException("one mask delay per image");
    }
  }

  /**
   * Draws each image's mask delay: log-normal with the given median and sigma (a mask uploaded right after its image,
   * now and then much later), capped at {@code cap} (a job gives up after {@code inputs-timeout}, and a later mask is
   * as good as none); a share {@code never} of the masks never comes. Its own {@link Random}, seeded from the run's
   * seed and the trace's name, so the trace's other draws stay as they were.
   */
  static MaskedTrace draw(Trace images, long seed, Duration median, double sigma, double never, Duration cap) {
    Random random = new Random((seed * 31 + images.name().hashCode()) ^ 0x6d61736bL);
    long[] delay = new long[images.jobs()];
    for (int i = 0; i < delay.length; i++) {
      double logNormal = median.toMillis() * Math.exp(sigma * random.nextGaussian());
      boolean comes = random.nextDouble() >= never;
      delay[i] = !comes || logNormal > cap.toMillis() ? NEVER : (long) logNormal;
    }
    String shape = String.format(java.util.Locale.ROOT,
        "mask after its image: log-normal, median %s, sigma %s; %.1f%% never (and any past %s, inputs-timeout)",
        median, sigma, never * 100, cap);
    return new MaskedTrace(images, delay, shape);
  }

  /** Images whose mask never comes: they start no job, but with the option they warm the endpoint. */
  int orphans() {
    return (int) Arrays.stream(maskDelay).filter(d -> d == NEVER).count();
  }

  /** Per job that runs (in the order of {@link #ready()}), the index of its image in {@link #images()}. */
  int[] readyImages() {
    return IntStream.range(0, images.jobs()).filter(i -> maskDelay[i] != NEVER).boxed()
        .sorted(Comparator.comparingLong((Integer i) -> images.arrivals()[i] + maskDelay[i]).thenComparing(i -> i))
        .mapToInt(Integer::intValue).toArray();
  }

  /**
   * The jobs that run, arriving at the endpoint when their masks do; each keeps its image's drawn service time and
   * cold start, so a start costs the same whether the image's hint or the job's ask triggers it.
   */
  Trace ready() {
    int[] order = readyImages();
    long[] at = new long[order.length];
    long[] service = new long[order.length];
    long[] coldStart = new long[order.length];
    for (int j = 0; j < order.length; j++) {
      int i = order[j];
      at[j] = images.arrivals()[i] + maskDelay[i];
      service[j] = images.service()[i];
      coldStart[j] = images.coldStart()[i];
    }
    return new Trace(images.name(), images.shape(), at, service, coldStart);
  }
}
