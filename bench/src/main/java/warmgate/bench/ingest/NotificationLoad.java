package warmgate.bench.ingest;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import warmgate.bench.Latencies;

/**
 * A closed-loop load of S3 notifications: {@code concurrency} keep-alive HTTP/1.1 connections, each with exactly
 * one request in flight, the next sent as soon as the last is answered. Plain sockets rather than an HTTP client
 * library, so the generator spends as little of the shared CPU as it can and its own cost can be measured (the
 * CPU time of its threads).
 *
 * <p>Every request carries {@code records} records (S3 sends one; a notification may carry several, and an SQS
 * batch holds up to ten), each for one of {@code keys} image keys with an eTag never used before, so every record is
 * a new job (the job id comes from bucket, key and eTag). Counts are of jobs: a 2xx answer accepts
 * {@code records} of them.
 */
final class NotificationLoad {
  private final int port;
  private final String token;
  private final int concurrency;
  private final int keys;
  private final int records;
  private final AtomicLong next = new AtomicLong();
  private final List<Thread> threads = new ArrayList<>();
  private final ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
  private final ConcurrentHashMap<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
  private final LongAdder accepted = new LongAdder();
  private final LongAdder acceptedInWindow = new LongAdder();
  private final LongAdder notNew = new LongAdder();
  private final LongAdder connectionFailures = new LongAdder();
  private final Latencies latencies = new Latencies();
  private final List<Long> threadIds = new ArrayList<>();
  private volatile boolean measuring;
  private volatile boolean stopping;

  NotificationLoad(int port, String token, int concurrency, int keys, int records) {
    this.port = port;
    this.token = token;
    this.concurrency = concurrency;
    this.keys = keys;
    this.records = records;
  }

  /** The image key notification {@code i} reports; its mask sits beside it. */
  static String imageKey(int i) {
    return "users/u" + (i % 100) + "/input/b" + i + "_image.png";
  }

  static String maskKey(int i) {
    return "users/u" + (i % 100) + "/input/b" + i + "_mask.png";
  }

  void start() {
    for (int c = 0; c < concurrency; c++) {
      Thread t = new Thread(this::connection, "ingest-load-" + c);
      t.setDaemon(true);
      threads.add(t);
      threadIds.add(t.getId());
      t.start();
    }
  }

  /** From now on answered requests count towards the measured window. */
  void beginWindow() {
    measuring = true;
  }

  void endWindow() {
    measuring = false;
  }

  /** Sends no new request and waits for every one in flight to be answered. */
  void stop() throws InterruptedException {
    stopping = true;
    for (Thread t : threads) {
      t.join(30_000);
    }
  }

  /** CPU time of the generator's threads so far, nanoseconds (threads that have ended count 0). */
  long cpuNanos() {
    long total = 0;
    for (long id : threadIds) {
      long t = cpu.getThreadCpuTime(id);
      total += Math.max(0, t);
    }
    return total;
  }

  long accepted() {
    return accepted.sum();
  }

  long acceptedInWindow() {
    return acceptedInWindow.sum();
  }

  /** 2xx answers that reported the job as a duplicate, or a body that did not say it was accepted. */
  long notNew() {
    return notNew.sum();
  }

  long connectionFailures() {
    return connectionFailures.sum();
  }

  Latencies latencies() {
    return latencies;
  }

  /** Non-2xx answers by status, e.g. {@code 503×12} (answers, not jobs); empty when there were none. */
  String refusals() {
    StringBuilder s = new StringBuilder();
    statuses.forEach((status, count) -> {
      if (status / 100 != 2) {
        s.append(s.length() == 0 ? "" : ", ").append(status).append("×").append(count.sum());
      }
    });
    return s.toString();
  }

  /** Jobs in the answers that were not 2xx. */
  long refused() {
    return records * statuses.entrySet().stream().filter(e -> e.getKey() / 100 != 2).mapToLong(e -> e.getValue()
        .sum()).sum();
  }

  private void connection() {
    while (!stopping) {
      try (Socket socket = new Socket()) {
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(30_000);
        OutputStream out = socket.getOutputStream();
        InputStream in = new BufferedInputStream(socket.getInputStream(), 4096);
        while (!stopping) {
          long n = next.getAndAdd(records);
          byte[] request = request(n);
          long started = System.nanoTime();
          out.write(request);
          out.flush();
          Response response = Response.read(in);
          long took = System.nanoTime() - started;
          statuses.computeIfAbsent(response.status, s -> new LongAdder()).increment();
          if (response.status / 100 == 2) {
            accepted.add(records);
            if (measuring) {
              acceptedInWindow.add(records);
              latencies.record(took);
            }
            int fresh = response.body.split("\"duplicate\":false", -1).length - 1;
            if (fresh != records) {
              notNew.add(records - fresh);
            }
          }
          if (response.close) {
            break;
          }
        }
      } catch (IOException e) {
        connectionFailures.increment();
      }
    }
  }

  private byte[] request(long first) {
    StringBuilder all = new StringBuilder("{\"Records\":[");
    for (long n = first; n < first + records; n++) {
      all.append(n == first ? "" : ",").append(record(n));
    }
    byte[] bytes = all.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    String head = "POST /v1/notifications/s3 HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAuthorization: Bearer " + token
        + "\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length + "\r\n\r\n";
    byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
    byte[] request = new byte[headBytes.length + bytes.length];
    System.arraycopy(headBytes, 0, request, 0, headBytes.length);
    System.arraycopy(bytes, 0, request, headBytes.length, bytes.length);
    return request;
  }

  /**
   * One record, with the fields of AWS's example event
   * (docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
   */
  private String record(long n) {
    int i = (int) (n % keys);
    String eTag = String.format(Locale.ROOT, "%032x", n);
    return """
        {"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",\
        "eventTime":"2026-11-23T10:00:00.000Z","eventName":"ObjectCreated:Put",\
        "userIdentity":{"principalId":"AWS:AIDAJDPLRKLG7UEXAMPLE"},\
        "requestParameters":{"sourceIPAddress":"10.0.0.1"},\
        "responseElements":{"x-amz-request-id":"C3D13FE58DE4C810",\
        "x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},\
        "s3":{"s3SchemaVersion":"1.0","configurationId":"gen3d-uploads",\
        "bucket":{"name":"gen3d","ownerIdentity":{"principalId":"A3NL1KOZZKExample"},"arn":"arn:aws:s3:::gen3d"},\
        "object":{"key":"%s","size":48213,"eTag":"%s","sequencer":"%016X"}}}"""
        .formatted(imageKey(i), eTag, n);
  }

  /** The parts of an HTTP/1.1 response the load needs; the server answers with a Content-Length. */
  private record Response(int status, String body, boolean close) {
    static Response read(InputStream in) throws IOException {
      String statusLine = line(in);
      if (statusLine == null) {
        throw new IOException("connection closed");
      }
      int status = Integer.parseInt(statusLine.substring(9, 12));
      int length = 0;
      boolean close = false;
      for (String header = line(in); header != null && !header.isEmpty(); header = line(in)) {
        String lower = header.toLowerCase(Locale.ROOT);
        if (lower.startsWith("content-length:")) {
          length = Integer.parseInt(lower.substring(15).trim());
        } else if (lower.startsWith("connection:") && lower.contains("close")) {
          close = true;
        } else if (lower.startsWith("transfer-encoding:")) {
          throw new IOException("unexpected " + header);
        }
      }
      byte[] body = in.readNBytes(length);
      if (body.length < length) {
        throw new IOException("short body");
      }
      return new Response(status, new String(body, StandardCharsets.UTF_8), close);
    }

    private static String line(InputStream in) throws IOException {
      StringBuilder s = new StringBuilder();
      int c;
      while ((c = in.read()) != -1) {
        if (c == '\n') {
          int last = s.length() - 1;
          return last >= 0 && s.charAt(last) == '\r' ? s.substring(0, last) : s.toString();
        }
        s.append((char) c);
      }
      return s.length() == 0 ? null : s.toString();
    }
  }
}
