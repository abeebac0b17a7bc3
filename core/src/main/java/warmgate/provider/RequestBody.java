package warmgate.provider;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A request to a model whose bytes are read as they are sent, so its size does not weigh on the heap: the job's
 * inputs are streamed from the blob store and encoded on the way. Read once: {@link #open} may be called one time.
 */
public interface RequestBody {

  /** The exact number of bytes {@link #open} gives. */
  long length();

  /** The bytes; the caller closes the stream. */
  InputStream open() throws IOException;

  /** A body already in memory. */
  static RequestBody of(byte[] bytes) {
    return new RequestBody() {
      @Override
      public long length() {
        return bytes.length;
      }

      @Override
      public InputStream open() {
        return new ByteArrayInputStream(bytes);
      }
    };
  }
}
