package warmgate.ingest.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import warmgate.Fixtures;
import warmgate.InvalidInput;
import warmgate.ingest.ObjectCreated;
import warmgate.ingest.Skip;

// No I/O: parses fixtures written from AWS's documented S3 event format.
class S3EventParserTest {

  @Test
  void decodesKeyWithPlusForSpaceAndPercentEscapes() {
    var batch = (S3Notification.Batch) S3EventParser.parse(Fixtures.bytes("s3/put-versioned.json"));

    assertThat(batch.skipped()).isEmpty();
    assertThat(batch.uploads())
        .containsExactly(
            new ObjectCreated(
                "gen3d",
                "users/alice/input/my cat(v2)_image.png",
                "096fKKXTRTtl3on89fVO.nfljtsv6qko",
                "d41d8cd98f00b204e9800998ecf8427e",
                1024,
                "0055AED6DCD90281E5",
                Instant.parse("2026-11-20T10:15:30.123Z")));
  }

  @Test
  void acceptsUnknownMinorVersionAndSkipsRecordsThatAreNotUploads() {
    var batch = (S3Notification.Batch) S3EventParser.parse(Fixtures.bytes("s3/put-unversioned-minor-version.json"));

    assertThat(batch.uploads()).singleElement().satisfies(u -> {
      assertThat(u.key()).isEqualTo("users/bob/input/scan_image.png");
      assertThat(u.versionId()).isNull();
      assertThat(u.eTag()).as("quotes stripped").isEqualTo("8f2b9a0c1d3e4f5a6b7c8d9e0f1a2b3c-7");
      assertThat(u.eventTime()).isEqualTo(Instant.parse("2026-11-20T10:15:30Z"));
    });
    assertThat(batch.skipped())
        .containsExactly(new Skip("gen3d", "users/bob/input/old_image.png",
            "event ObjectRemoved:Delete is not an upload"));
  }

  @Test
  void recognisesTestEvent() {
    assertThat(S3EventParser.parse(Fixtures.bytes("s3/test-event.json")))
        .isEqualTo(new S3Notification.TestEvent("gen3d"));
  }

  @Test
  void rejectsBodyThatIsNotJson() {
    assertThatThrownBy(() -> S3EventParser.parse("{\"Records\": [".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOfSatisfying(InvalidInput.class, e -> assertThat(e.code()).isEqualTo("invalid_json"));
  }

  @Test
  void rejectsObjectWithoutRecords() {
    assertThatThrownBy(() -> S3EventParser.parse("{\"hello\": 1}".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(InvalidInput.class)
        .hasMessageContaining("no Records array");
  }

  @Test
  void rejectsMajorVersionItDoesNotKnow() {
    String body = """
        {"Records":[{"eventVersion":"3.0","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
          "s3":{"bucket":{"name":"b"},"object":{"key":"k","eTag":"e"}}}]}""";
    assertThatThrownBy(() -> S3EventParser.parse(body.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(InvalidInput.class)
        .hasMessageContaining("eventVersion");
  }

  @Test
  void rejectsRecordWithoutKey() {
    String body = """
        {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
          "s3":{"bucket":{"name":"b"},"object":{"eTag":"e"}}}]}""";
    assertThatThrownBy(() -> S3EventParser.parse(body.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(InvalidInput.class)
        .hasMessageContaining("Records[0].s3.object.key is missing");
  }

  @Test
  void rejectsMalformedPercentEncoding() {
    String body = """
        {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
          "s3":{"bucket":{"name":"b"},"object":{"key":"bad%zz","eTag":"e"}}}]}""";
    assertThatThrownBy(() -> S3EventParser.parse(body.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(InvalidInput.class)
        .hasMessageContaining("URL-encoded");
  }

  @Test
  void skipsUploadWithNeitherVersionNorETag() {
    String body = """
        {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
          "s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}""";
    var batch = (S3Notification.Batch) S3EventParser.parse(body.getBytes(StandardCharsets.UTF_8));
    assertThat(batch.uploads()).isEmpty();
    assertThat(batch.skipped()).singleElement().satisfies(s ->
        assertThat(s.reason()).contains("neither a versionId nor an eTag"));
  }

  @Test
  void rejectsNestingDeeperThanTheLimit() {
    String deep = "[".repeat(200) + "]".repeat(200);
    assertThatThrownBy(() -> S3EventParser.parse(("{\"Records\":" + deep + "}").getBytes(StandardCharsets.UTF_8)))
        .isInstanceOfSatisfying(InvalidInput.class, e -> assertThat(e.code()).isEqualTo("json_limit_exceeded"));
  }

  private static byte[] minioDocsEvent() {
    try (var in = S3EventParserTest.class.getClassLoader()
        .getResourceAsStream("warmgate/ingest/s3/minio/put-elasticsearch-docs.json")) {
      return in.readAllBytes();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void acceptsMinioEventAsMinioPublishesIt() {
    var batch = (S3Notification.Batch) S3EventParser.parse(minioDocsEvent());

    assertThat(batch.skipped()).isEmpty();
    assertThat(batch.uploads()).containsExactly(new ObjectCreated("images", "myphoto.jpg", null,
        "a3410f4f8788b510d6f19c5067e60a90", 6474, "14B09A09703FC47B", Instant.parse("2017-03-30T08:00:41Z")));
  }

  @Test
  void acceptsMinioWebhookBodyAroundTheSameRecord() throws Exception {
    // The envelope minio/minio internal/event/target/webhook.go send() wraps one record in.
    var record = warmgate.Json.mapper().readTree(minioDocsEvent()).get("Records").get(0);
    var body = warmgate.Json.mapper().createObjectNode();
    body.put("EventName", "s3:ObjectCreated:Put");
    body.put("Key", "images/myphoto.jpg");
    body.putArray("Records").add(record);

    var batch = (S3Notification.Batch) S3EventParser.parse(warmgate.Json.mapper().writeValueAsBytes(body));

    assertThat(batch.uploads()).singleElement().satisfies(u -> assertThat(u.key()).isEqualTo("myphoto.jpg"));
  }

  @Test
  void skipsMinioEventsThatAreNotUploadsAndKeepsAwsNamesStrict() throws Exception {
    var removed = (com.fasterxml.jackson.databind.node.ObjectNode) warmgate.Json.mapper().readTree(minioDocsEvent());
    ((com.fasterxml.jackson.databind.node.ObjectNode) removed.get("Records").get(0))
        .put("eventName", "s3:ObjectRemoved:Delete");
    var batch = (S3Notification.Batch) S3EventParser.parse(warmgate.Json.mapper().writeValueAsBytes(removed));
    assertThat(batch.uploads()).isEmpty();
    assertThat(batch.skipped()).singleElement().satisfies(s ->
        assertThat(s.reason()).contains("ObjectRemoved:Delete is not an upload"));

    String prefixedAws = """
        {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"s3:ObjectCreated:Put",
          "s3":{"bucket":{"name":"b"},"object":{"key":"k","eTag":"e"}}}]}""";
    assertThat(((S3Notification.Batch) S3EventParser.parse(prefixedAws.getBytes(StandardCharsets.UTF_8))).uploads())
        .isEmpty();
    String otherSource = """
        {"Records":[{"eventVersion":"2.0","eventSource":"ceph:s3","eventName":"ObjectCreated:Put",
          "s3":{"bucket":{"name":"b"},"object":{"key":"k","eTag":"e"}}}]}""";
    assertThatThrownBy(() -> S3EventParser.parse(otherSource.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(InvalidInput.class).hasMessageContaining("expected aws:s3 or minio:s3");
  }
}
