package warmgate.config;

import com.typesafe.config.Config;
import java.util.Map;

/**
 * How large a job's inputs may be on one endpoint, checked from the store's metadata (a {@code HeadObject}, a file's
 * length) before any byte is read: a job over either limit fails at once, for good, and uses no attempt.
 *
 * @param maxInputBytes the largest one input may be
 * @param maxJobInputBytes the largest all of a job's inputs together may be
 * @param why what the provider's own limit is and what to do about it, added to a refusal; null if nothing
 */
public record InputLimits(long maxInputBytes, long maxJobInputBytes, String why) {
  /** SageMaker's real-time request limit: the whole JSON body, inputs inflated by base64 included. */
  public static final long SAGEMAKER_REALTIME_REQUEST_BYTES = 6_291_456L;
  /** SageMaker Asynchronous Inference's request limit (1 GB). */
  public static final long SAGEMAKER_ASYNC_REQUEST_BYTES = 1L << 30;
  /** What a request's JSON may add besides the base64 of its inputs: the payload template and the field names. */
  static final long JSON_ALLOWANCE = 16 * 1024;

  public InputLimits {
    if (maxInputBytes < 1 || maxJobInputBytes < 1) {
      throw new IllegalArgumentException("input limits must be at least 1 byte");
    }
  }

  /** Limits with nothing to add to a refusal. */
  public InputLimits(long maxInputBytes, long maxJobInputBytes) {
    this(maxInputBytes, maxJobInputBytes, null);
  }

  /**
   * The defaults of a kind of provider. The inputs travel as base64, 4 bytes for every 3, so a request limit of
   * {@code L} bytes holds inputs of {@code 3/4 L} at most, less what the JSON around them takes: for SageMaker
   * real-time 4,706,304 bytes (base64 6,275,072 of 6,291,456). The {@code process} provider streams the request
   * and the answer, so its limit (256 MiB an input, 512 MiB a job) is what a model on the same machine should be
   * sent rather than what Warmgate can carry; unknown kinds get the same.
   */
  public static InputLimits forProvider(String provider) {
    return switch (provider) {
      case "sagemaker", "sagemaker-component" -> both(inputsWithin(SAGEMAKER_REALTIME_REQUEST_BYTES),
          "SageMaker real-time takes requests of at most " + SAGEMAKER_REALTIME_REQUEST_BYTES
              + " bytes, the inputs in base64 included; larger inputs need provider = sagemaker-async");
      case "sagemaker-async" -> both(inputsWithin(SAGEMAKER_ASYNC_REQUEST_BYTES),
          "SageMaker Asynchronous Inference takes requests of at most 1 GB (" + SAGEMAKER_ASYNC_REQUEST_BYTES
              + " bytes), the inputs in base64 included");
      default -> new InputLimits(256L << 20, 512L << 20);
    };
  }

  /** The inputs whose base64, with {@link #JSON_ALLOWANCE} of JSON around it, fits {@code requestBytes}. */
  public static long inputsWithin(long requestBytes) {
    return (requestBytes - JSON_ALLOWANCE) / 4 * 3;
  }

  /**
   * Reads {@code max-input-bytes} and {@code max-job-input-bytes} of an endpoint's block; a missing key or {@code auto}
   * takes the provider's default.
   */
  public static InputLimits of(String endpoint, String provider, Config c) {
    InputLimits defaults = forProvider(provider);
    long input = read(c, "max-input-bytes", defaults.maxInputBytes());
    long job = read(c, "max-job-input-bytes", Math.max(defaults.maxJobInputBytes(), input));
    try {
      return new InputLimits(input, job, defaults.why());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("endpoint " + endpoint + ": " + e.getMessage(), e);
    }
  }

  private static long read(Config c, String key, long fallback) {
    if (!c.hasPath(key) || "auto".equals(c.getValue(key).unwrapped())) {
      return fallback;
    }
    return c.getBytes(key);
  }

  private static InputLimits both(long bytes, String why) {
    return new InputLimits(bytes, bytes, why);
  }

  /**
   * Why inputs of these sizes can never run here, or null if they fit.
   *
   * @param sizes each input's size, by name, in the order to report them
   * @param refs each input's reference, by name, for the reason
   */
  public String refusal(String endpoint, Map<String, Long> sizes, Map<String, ?> refs) {
    long total = 0;
    for (var e : sizes.entrySet()) {
      if (e.getValue() > maxInputBytes) {
        return explained("input " + e.getKey() + " " + refs.get(e.getKey()) + " is " + e.getValue()
            + " bytes, over endpoint " + endpoint + "'s max-input-bytes of " + maxInputBytes);
      }
      total += e.getValue();
    }
    if (total > maxJobInputBytes) {
      return explained("the inputs " + String.join(", ", sizes.keySet().stream().map(n -> n + " " + refs.get(n)
          + " (" + sizes.get(n) + " bytes)").toList()) + " are " + total + " bytes together, over endpoint "
          + endpoint + "'s max-job-input-bytes of " + maxJobInputBytes);
    }
    return null;
  }

  private String explained(String reason) {
    return why == null ? reason : reason + " (" + why + ")";
  }
}
