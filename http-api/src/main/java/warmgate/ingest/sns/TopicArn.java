package warmgate.ingest.sns;

import java.util.regex.Pattern;
import warmgate.InvalidInput;

/**
 * An SNS topic's ARN, {@code arn:<partition>:sns:<region>:<account>:<name>}, taken apart because the region
 * and partition decide which host may serve the signing certificate and the subscribe link.
 */
public record TopicArn(String arn, String partition, String region, String account, String name) {
  private static final Pattern ARN = Pattern.compile(
      "arn:(aws|aws-cn|aws-us-gov):sns:([a-z0-9-]{1,32}):(\\d{12}):([A-Za-z0-9_.-]{1,256})");

  public static TopicArn parse(String arn) {
    var m = ARN.matcher(arn);
    if (!m.matches() || !region(m.group(2))) {
      throw new InvalidInput("invalid_sns_message", "TopicArn '" + arn
          + "' is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)");
    }
    return new TopicArn(arn, m.group(1), m.group(2), m.group(3), m.group(4));
  }

  /**
   * The domain SNS serves this partition from: {@code amazonaws.com} for the commercial and GovCloud
   * partitions, {@code amazonaws.com.cn} for China.
   */
  public String domain() {
    return partition.equals("aws-cn") ? "amazonaws.com.cn" : "amazonaws.com";
  }

  /** The one host SNS uses for this topic: {@code sns.<region>.<domain>}. */
  public String snsHost() {
    return "sns." + region + "." + domain();
  }

  /** Lower-case words joined by single hyphens, ending in a digit: us-east-1, cn-north-1, us-gov-west-1. */
  static boolean region(String s) {
    return s.matches("[a-z]{2}(-[a-z]+)+-\\d{1,2}");
  }
}
