package warmgate.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * {@code warmgate sample-inputs --out DIR --name BASE}: writes {@code BASE_image.png} and {@code BASE_mask.png}
 * into DIR, a pair the demo model turns into a point cloud. The mask is written first, so a watcher that sees
 * the image finds its companion already there.
 */
public final class SampleInputs {
  private SampleInputs() {}

  public static void main(String[] args) throws IOException {
    Path out = null;
    String name = "ball";
    int size = 128;
    for (int i = 0; i < args.length; i += 2) {
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(args[i] + " needs a value");
      }
      switch (args[i]) {
        case "--out" -> out = Path.of(args[i + 1]);
        case "--name" -> name = args[i + 1];
        case "--size" -> size = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + "; usage: --out DIR [--name BASE] [--size PIXELS]");
      }
    }
    if (out == null) {
      throw new IllegalArgumentException("--out DIR is required, e.g. --out data/buckets/gen3d/users/alice/input");
    }
    Files.createDirectories(out);
    write(out.resolve(name + "_mask.png"), SampleImages.mask(size));
    write(out.resolve(name + "_image.png"), SampleImages.image(size));
    System.out.println("wrote " + out.resolve(name + "_mask.png") + " and " + out.resolve(name + "_image.png"));
  }

  /** Written beside the target and moved into place, so a watcher never reads half a file. */
  private static void write(Path target, byte[] content) throws IOException {
    Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
    Files.write(tmp, content);
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
