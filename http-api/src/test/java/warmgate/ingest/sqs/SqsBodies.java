package warmgate.ingest.sqs;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import warmgate.ingest.sns.SnsFixture;

/** Message bodies as AWS puts them on a queue: S3 directly, SNS (raw delivery off and on), EventBridge. */
public final class SqsBodies {
  private SqsBodies() {}

  /** What S3 sends a queue (and SNS with raw delivery on): the key URL-encoded, no version (unversioned bucket). */
  public static String s3Event(String bucket, String key, String eTag) {
    return """
        {"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",\
        "eventTime":"2026-11-23T09:59:58.123Z","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0",\
        "bucket":{"name":"%s","arn":"arn:aws:s3:::%s"},\
        "object":{"key":"%s","size":1,"eTag":"%s","sequencer":"0055AED6DCD90281E5"}}}]}"""
        .formatted(bucket, bucket, URLEncoder.encode(key, StandardCharsets.UTF_8).replace("%2F", "/"), eTag);
  }

  /** The SNS envelope an SQS subscription receives with raw delivery off (signed, as SNS signs it). */
  public static String snsEnvelope(String message) {
    return new String(SnsFixture.bytes(SnsFixture.sign(SnsFixture.notification(message), "1")),
        StandardCharsets.UTF_8);
  }

  /** The event an EventBridge rule with an SQS target puts on the queue: the key as uploaded. */
  public static String eventBridge(String bucket, String key, String eTag) {
    return """
        {"version":"0","id":"17793124-05d4-b198-2fde-7ededc63b103","detail-type":"Object Created","source":"aws.s3",\
        "account":"111122223333","time":"2026-11-23T09:59:58Z","region":"us-east-1",\
        "resources":["arn:aws:s3:::%s"],"detail":{"version":"0","bucket":{"name":"%s"},\
        "object":{"key":"%s","size":1,"etag":"%s","sequencer":"0055AED6DCD90281E5"},\
        "request-id":"N4N7GDK58NMKJ12R","requester":"111122223333","reason":"PutObject"}}"""
        .formatted(bucket, bucket, key, eTag);
  }

  public static final String TEST_EVENT = SnsFixture.TEST_EVENT;
}
