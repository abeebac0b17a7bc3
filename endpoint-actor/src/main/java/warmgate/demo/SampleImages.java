package warmgate.demo;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** A matching image and mask to try the Gen3D pipeline with: a shaded ball and the disc that covers it. */
public final class SampleImages {
  private SampleImages() {}

  /** A ball lit from the upper left on a dark background. */
  public static byte[] image(int size) {
    BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    double c = size / 2.0;
    double radius = size * 0.4;
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        double dx = (x - c) / radius;
        double dy = (y - c) / radius;
        double d2 = dx * dx + dy * dy;
        int rgb;
        if (d2 <= 1) {
          double dz = Math.sqrt(1 - d2);
          double light = Math.max(0, (-dx - dy + dz) / Math.sqrt(3));
          int r = (int) (60 + 195 * light);
          int g = (int) (90 + 120 * light);
          int b = (int) (200 * light + 40);
          rgb = (r << 16) | (g << 8) | b;
        } else {
          rgb = 0x101820;
        }
        image.setRGB(x, y, rgb);
      }
    }
    return png(image);
  }

  /** White where the ball is, black elsewhere. */
  public static byte[] mask(int size) {
    return disc(size, size * 0.4);
  }

  /** A white disc of {@code radius} pixels centred on a black square; radius 0 gives an all-black mask. */
  public static byte[] disc(int size, double radius) {
    BufferedImage mask = new BufferedImage(size, size, BufferedImage.TYPE_BYTE_GRAY);
    double c = size / 2.0;
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        double dx = x - c;
        double dy = y - c;
        mask.getRaster().setSample(x, y, 0, radius > 0 && dx * dx + dy * dy <= radius * radius ? 255 : 0);
      }
    }
    return png(mask);
  }

  private static byte[] png(BufferedImage image) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(image, "png", out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
