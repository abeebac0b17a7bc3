package warmgate.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import warmgate.Json;
import warmgate.provider.sagemaker.SageMakerStandIn;
import warmgate.provider.sagemaker.SageMakerStandIn.Model;
import warmgate.provider.sagemaker.SageMakerStandIn.Reply;

/**
 * The models the SageMaker stand-in runs for these tests. Each reads the request Warmgate built (its inputs inlined as
 * base64, the body of a real-time call or the staged request.json of an asynchronous one) and answers a mesh computed
 * from the image it finds there, so the test can compute the bytes it expects from the image it uploaded.
 */
final class MeshModels {
  static final int ASYNC_MESH_BYTES = 20 * 1024 * 1024;
  static final int REALTIME_MESH_BYTES = 64 * 1024;

  private MeshModels() {}

  /** {@code size} bytes that depend on every byte of {@code image}: a PLY header, then a seeded pseudo-random run. */
  static byte[] mesh(byte[] image, int size) {
    byte[] mesh = new byte[size];
    new SplittableRandom(Arrays.hashCode(image) * 31L + image.length).nextBytes(mesh);
    byte[] header = ("ply\nformat binary_little_endian 1.0\ncomment from " + image.length + " bytes\nend_header\n")
        .getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(header, 0, mesh, 0, Math.min(header.length, size));
    return mesh;
  }

  /** Some image bytes; {@code seed} makes them differ, so that each job is its own. */
  static byte[] image(int seed, int size) {
    byte[] image = new byte[size];
    new SplittableRandom(seed).nextBytes(image);
    return image;
  }

  /** The image inside a request Warmgate built: {@code {"image": "<base64>"}}. */
  static byte[] imageOf(SageMakerStandIn.Invocation invocation) {
    try {
      JsonNode request = Json.mapper().readTree(invocation.body());
      return Base64.getDecoder().decode(request.path("image").asText());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Answers the mesh of the request's image, {@code size} bytes of it. */
  static Model meshing(int size) {
    return inv -> new Reply.Answer("application/octet-stream", mesh(imageOf(inv), size));
  }

  /** The model's failure text for an image it cannot mesh. */
  static String outOfMemory(byte[] image) {
    return "CUDA out of memory while meshing an image of " + image.length + " bytes";
  }

  /** Fails every request as a model that ran out of GPU memory (a 500 of the container's own). */
  static Model outOfMemory() {
    return inv -> Reply.modelError(500, outOfMemory(imageOf(inv)));
  }

  /**
   * Answers the first {@code refusals} invocations as SageMaker does while an inference component has no copy that
   * can take them ({@link SageMakerStandIn#NO_CAPACITY}), then meshes.
   */
  static Model noCapacityFirst(int refusals, AtomicInteger invocations) {
    Model mesh = meshing(REALTIME_MESH_BYTES);
    return inv -> invocations.incrementAndGet() <= refusals
        ? Reply.validationError(SageMakerStandIn.NO_CAPACITY)
        : mesh.answer(inv);
  }
}
