package warmgate.demo;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The demo model's "inference": every pixel the mask selects becomes a point, placed where the pixel is and
 * lifted by its brightness, coloured as the image. Real enough to open in any PLY viewer; small enough to
 * run anywhere.
 */
public final class PointCloud {
  /** Larger masks are sampled on a grid so a response stays a few megabytes. */
  public static final int MAX_POINTS = 250_000;

  private PointCloud() {}

  /**
   * @throws IllegalArgumentException when the sizes differ or the mask selects nothing
   */
  public static byte[] toPly(BufferedImage image, BufferedImage mask) {
    int w = image.getWidth();
    int h = image.getHeight();
    if (mask.getWidth() != w || mask.getHeight() != h) {
      throw new IllegalArgumentException(
          "image is " + w + "x" + h + " but mask is " + mask.getWidth() + "x" + mask.getHeight() + "; they must match");
    }
    int selected = 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        if (isSelected(mask.getRGB(x, y))) {
          selected++;
        }
      }
    }
    if (selected == 0) {
      throw new IllegalArgumentException("the mask selects no pixel (every pixel is dark or transparent)");
    }
    int stride = (int) Math.ceil(Math.sqrt((double) selected / MAX_POINTS));
    StringBuilder body = new StringBuilder(Math.min(selected, MAX_POINTS) * 40);
    int points = 0;
    double scale = Math.max(w, h);
    for (int y = 0; y < h; y += stride) {
      for (int x = 0; x < w; x += stride) {
        if (!isSelected(mask.getRGB(x, y))) {
          continue;
        }
        int rgb = image.getRGB(x, y);
        int r = (rgb >> 16) & 0xff;
        int g = (rgb >> 8) & 0xff;
        int b = rgb & 0xff;
        double px = (x + 0.5 - w / 2.0) / scale;
        double py = (h / 2.0 - y - 0.5) / scale;
        double pz = luminance(r, g, b) / 255.0 * 0.25;
        body.append(String.format(Locale.ROOT, "%.5f %.5f %.5f %d %d %d%n", px, py, pz, r, g, b));
        points++;
      }
    }
    String header = "ply\n"
        + "format ascii 1.0\n"
        + "comment warmgate demo model: masked pixels lifted by brightness\n"
        + "element vertex " + points + "\n"
        + "property float x\nproperty float y\nproperty float z\n"
        + "property uchar red\nproperty uchar green\nproperty uchar blue\n"
        + "end_header\n";
    ByteArrayOutputStream out = new ByteArrayOutputStream(header.length() + body.length());
    out.writeBytes(header.getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(body.toString().getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }

  /** A mask pixel counts when it is opaque and bright: white on black, as masks are drawn. */
  static boolean isSelected(int argb) {
    int alpha = (argb >>> 24) & 0xff;
    int r = (argb >> 16) & 0xff;
    int g = (argb >> 8) & 0xff;
    int b = argb & 0xff;
    return alpha >= 128 && luminance(r, g, b) >= 128;
  }

  private static double luminance(int r, int g, int b) {
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }
}
