package warmgate.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * A minimal HTTP/1.1 client for oversized uploads. A server refusing a body early answers and closes while
 * the client may still be sending; java.net.http then often reports a connection reset instead of the
 * answer (and on Java 17 hangs on {@code Expect: 100-continue} refused with a final status). This one asks
 * {@code Expect: 100-continue} for a known length, and otherwise reads the answer while a second thread writes.
 */
public final class RawHttp {
  public record Response(int status, String contentType, String body) {}

  private RawHttp() {}

  /** Sends the headers with {@code Expect: 100-continue}; the body only if the server asks for it. */
  public static Response postWithContentLength(int port, String path, String header, byte[] body) throws IOException {
    try (Socket socket = connect(port)) {
      OutputStream out = socket.getOutputStream();
      out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + header
          + "\r\nContent-Length: " + body.length
              + "\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      Response first = read(in);
      if (first.status() != 100) {
        return first;
      }
      out.write(body);
      out.flush();
      return read(in);
    }
  }

  /** Sends the body in 64 KiB chunks from another thread while this one waits for the answer. */
  public static Response postChunked(int port, String path, String header, byte[] body) throws IOException {
    try (Socket socket = connect(port)) {
      OutputStream out = socket.getOutputStream();
      out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + header
          + "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      CompletableFuture.runAsync(() -> {
        try {
          for (int offset = 0; offset < body.length; offset += 64 * 1024) {
            int length = Math.min(64 * 1024, body.length - offset);
            out.write((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body, offset, length);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
          }
          out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } catch (IOException e) {
          // The server stopped reading once the limit was passed; its answer is what counts.
        }
      });
      return read(socket.getInputStream());
    }
  }

  /**
   * Sends {@code request} as it is, however malformed, from another thread while this one reads the answer: a
   * server refusing a request early may answer before it has read all of it.
   */
  public static Response exchange(int port, byte[] request) throws IOException {
    try (Socket socket = connect(port)) {
      OutputStream out = socket.getOutputStream();
      CompletableFuture.runAsync(() -> {
        try {
          out.write(request);
          out.flush();
        } catch (IOException e) {
          // The server stopped reading once it had seen enough; its answer is what counts.
        }
      });
      return read(socket.getInputStream());
    }
  }

  private static Socket connect(int port) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    socket.setSoTimeout(10_000);
    return socket;
  }

  /** One response: status line, headers, and a body of Content-Length bytes. */
  private static Response read(InputStream in) throws IOException {
    String statusLine = line(in);
    int status = Integer.parseInt(statusLine.split(" ")[1]);
    int contentLength = 0;
    String contentType = null;
    for (String line = line(in); !line.isEmpty(); line = line(in)) {
      String lower = line.toLowerCase(Locale.ROOT);
      if (lower.startsWith("content-length:")) {
        contentLength = Integer.parseInt(line.substring("content-length:".length()).trim());
      } else if (lower.startsWith("content-type:")) {
        contentType = line.substring("content-type:".length()).trim();
      }
    }
    byte[] body = in.readNBytes(contentLength);
    return new Response(status, contentType, new String(body, StandardCharsets.UTF_8));
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        throw new IOException("the connection closed in the middle of a response");
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.US_ASCII);
  }
}
