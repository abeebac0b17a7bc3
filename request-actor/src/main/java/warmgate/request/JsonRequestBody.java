package warmgate.request;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import warmgate.Json;
import warmgate.provider.InferenceException;
import warmgate.provider.RequestBody;

/**
 * The JSON request a model gets, {@code payload} with each input as a base64 string under its name, written as it is
 * read: the template's fields, then each input's bytes from the store, encoded on the way. Its length is known before
 * a byte is read (base64 is 4 bytes for every 3), so it goes out with a {@code Content-Length}. Read once.
 */
final class JsonRequestBody implements RequestBody {
  private final List<InputStream> parts;
  private final long length;

  /** One input: its field name, its stream from the store and the size its metadata gave. */
  record Input(String name, InputStream content, long size) {}

  private JsonRequestBody(List<InputStream> parts, long length) {
    this.parts = parts;
    this.length = length;
  }

  /** The request of {@code template} with {@code inputs} appended; a template field named like one is replaced. */
  static JsonRequestBody of(ObjectNode template, List<Input> inputs) {
    ObjectNode fields = template.deepCopy();
    inputs.forEach(i -> fields.remove(i.name()));
    byte[] head;
    try {
      head = Json.mapper().writeValueAsBytes(fields);
    } catch (JsonProcessingException e) {
      throw InferenceException.permanent("the payload cannot be written as JSON: " + e.getOriginalMessage());
    }
    List<InputStream> parts = new ArrayList<>();
    byte[] open = Arrays.copyOf(head, head.length - 1); // without its closing brace
    parts.add(new ByteArrayInputStream(open));
    long length = open.length;
    boolean first = fields.isEmpty();
    for (Input input : inputs) {
      byte[] name;
      try {
        name = Json.mapper().writeValueAsBytes(input.name());
      } catch (JsonProcessingException e) {
        throw InferenceException.permanent("input name cannot be written as JSON: " + e.getOriginalMessage());
      }
      byte[] before = concat(first ? new byte[0] : bytes(","), name, bytes(":\""));
      first = false;
      parts.add(new ByteArrayInputStream(before));
      parts.add(new Base64Stream(input.name(), input.content(), input.size()));
      parts.add(new ByteArrayInputStream(bytes("\"")));
      length += before.length + base64Length(input.size()) + 1;
    }
    parts.add(new ByteArrayInputStream(bytes("}")));
    return new JsonRequestBody(parts, length + 1);
  }

  static long base64Length(long bytes) {
    return (bytes + 2) / 3 * 4;
  }

  @Override
  public long length() {
    return length;
  }

  @Override
  public InputStream open() {
    return new SequenceInputStream(Collections.enumeration(parts));
  }

  /** Closes the inputs' streams, read or not. */
  void close() {
    for (InputStream part : parts) {
      try {
        part.close();
      } catch (IOException ignored) {
        // a stream that cannot close has nothing more to give
      }
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[]... arrays) {
    int n = 0;
    for (byte[] a : arrays) {
      n += a.length;
    }
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] a : arrays) {
      System.arraycopy(a, 0, out, at, a.length);
      at += a.length;
    }
    return out;
  }

  /**
   * Base64 of a stream, a chunk at a time (a multiple of 3 bytes, so only the last has padding). Fails when the
   * stream ends before or goes past the size the metadata gave: the object changed while it was read.
   */
  static final class Base64Stream extends InputStream {
    private static final int CHUNK = 3 * 16 * 1024;
    private final String name;
    private final InputStream source;
    private final long expected;
    private final byte[] raw = new byte[CHUNK];
    private byte[] encoded = new byte[0];
    private int at;
    private long read;
    private boolean done;

    Base64Stream(String name, InputStream source, long expected) {
      this.name = name;
      this.source = source;
      this.expected = expected;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      if (at == encoded.length && !fill()) {
        return -1;
      }
      int n = Math.min(len, encoded.length - at);
      System.arraycopy(encoded, at, b, off, n);
      at += n;
      return n;
    }

    private boolean fill() throws IOException {
      if (done) {
        return false;
      }
      int n = source.readNBytes(raw, 0, CHUNK);
      read += n;
      if (read > expected) {
        throw new IOException("input " + name + " grew while it was read: more than its " + expected + " bytes");
      }
      if (n < CHUNK) {
        done = true;
        if (read != expected) {
          throw new IOException("input " + name + " ended after " + read + " of its " + expected + " bytes");
        }
      }
      encoded = Base64.getEncoder().encode(n == CHUNK ? raw : Arrays.copyOf(raw, n));
      at = 0;
      return encoded.length > 0;
    }

    @Override
    public void close() throws IOException {
      source.close();
    }
  }
}
