package warmgate.demo;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;

/**
 * A valid PNG of any size on disk: a small {@link SampleImages#image} whose last IDAT is followed by private ancillary
 * chunks ({@code paDd}, zeros) before its IEND. Decoders skip chunks they do not know, so the demo model reads the
 * small picture whatever the file's size, well under its pixel limit. Written as it goes, never whole in memory.
 */
public final class PaddedPng {
  private static final int IEND_CHUNK = 12; // length, type, no data, CRC
  private static final int MAX_CHUNK = 64 << 20;
  private static final byte[] TYPE = "paDd".getBytes(StandardCharsets.US_ASCII);

  private PaddedPng() {}

  /** Writes an image of {@code size} × {@code size} pixels padded to exactly {@code bytes} bytes. */
  public static Path write(Path file, int size, long bytes) throws IOException {
    byte[] png = SampleImages.image(size);
    long padding = bytes - png.length;
    if (padding < IEND_CHUNK) {
      throw new IllegalArgumentException("a padded PNG needs at least " + (png.length + IEND_CHUNK) + " bytes");
    }
    byte[] zeros = new byte[1 << 20];
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
      out.write(png, 0, png.length - IEND_CHUNK);
      while (padding > 0) {
        long rest = padding - IEND_CHUNK; // the data of one last chunk
        // never leave less than a whole empty chunk behind
        int data = rest <= MAX_CHUNK ? (int) rest : rest - MAX_CHUNK < IEND_CHUNK ? MAX_CHUNK - IEND_CHUNK : MAX_CHUNK;
        out.write(ByteBuffer.allocate(4).putInt(data).array());
        out.write(TYPE);
        CRC32 crc = new CRC32();
        crc.update(TYPE);
        for (int left = data; left > 0; left -= Math.min(left, zeros.length)) {
          int n = Math.min(left, zeros.length);
          out.write(zeros, 0, n);
          crc.update(zeros, 0, n);
        }
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        padding -= data + IEND_CHUNK;
      }
      out.write(png, png.length - IEND_CHUNK, IEND_CHUNK);
    }
    return file;
  }
}
