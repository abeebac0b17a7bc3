package warmgate.ingest.sns;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Optional;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import warmgate.Failures;
import warmgate.InvalidInput;
import warmgate.http.ApiErrors;
import warmgate.http.JsonResponses;
import warmgate.http.NotificationRoute;
import warmgate.ingest.Ingestion;
import warmgate.ingest.s3.S3EventParser;
import warmgate.ingest.s3.S3Notification;
import warmgate.ingest.s3.S3Routes;
import warmgate.provider.AsyncResult;

/**
 * {@code POST /v1/notifications/sns}: S3 event notifications delivered by an Amazon SNS HTTP(S)
 * subscription, and the notifications of asynchronous invocations that ended (SageMaker's success and error
 * topics). Authenticated by SNS's signature rather than a token: nothing in a message is acted on
 * (no job, no confirmation request, no trusted log line) until {@link SnsVerifier} believes it.
 */
public final class SnsRoutes extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(SnsRoutes.class);

  private final SnsVerifier verifier;
  private final SubscriptionConfirmer confirmer;

  public SnsRoutes(SnsVerifier verifier, SubscriptionConfirmer confirmer) {
    this.verifier = verifier;
    this.confirmer = confirmer;
  }

  /** Production wiring from {@code warmgate.sns}: the JDK's trust store, {@link AwsHttp} for both GETs. */
  public static SnsRoutes fromConfig(com.typesafe.config.Config warmgate, Clock clock) {
    SnsSettings settings = SnsSettings.fromConfig(warmgate);
    var http = new AwsHttp(settings.connectTimeout(), settings.requestTimeout(), settings.maxResponseBytes());
    var certificates = new SigningCertificates(http, SigningCertificates.jdkTrustAnchors(), settings.intermediates(),
        settings.certificateNames(), settings.certificateCacheSize(), clock);
    return new SnsRoutes(new SnsVerifier(settings.verifier(), certificates, clock), http);
  }

  /** What a verified confirmation is answered with; {@code outcome} is {@code confirmed} or {@code acknowledged}. */
  record SnsAnswer(String type, String topicArn, String outcome) {}

  /** What a verified result notification is answered with: the job told to look for its answer. */
  record ResultAnswer(String type, String topicArn, String outcome, String jobId) {}

  /**
   * {@code /v1/notifications/sns}: the S3 events it carries start jobs through {@code ingestion}, which also takes the
   * results of asynchronous invocations.
   */
  public NotificationRoute into(Ingestion ingestion) {
    S3Routes s3 = new S3Routes(ingestion);
    return auth -> pathPrefix("notifications", () -> route(ingestion, s3::ingest));
  }

  /** {@code sns}, inside {@code /v1/notifications}; {@code ingest} answers an S3 event as {@code POST
   * /v1/notifications/s3} does. */
  private Route route(Ingestion ingestion, Function<S3Notification, Route> ingest) {
    return path("sns", () -> post(() -> optionalHeaderValueByName("x-amz-sns-message-type", header ->
        entity(Unmarshaller.entityToByteArray(), body -> receive(header, body, ingestion, ingest)))));
  }

  private Route receive(Optional<String> header, byte[] body, Ingestion ingestion,
      Function<S3Notification, Route> ingest) {
    SnsMessage message = SnsMessage.parse(body);
    if (header.isPresent() && !header.get().equals(message.type().word())) {
      throw new InvalidInput("invalid_sns_message", "the x-amz-sns-message-type header says " + header.get()
          + " but the body's Type is " + message.type().word());
    }
    return onComplete(verifier.verify(message), verified -> verified.isSuccess()
        ? act(verified.get(), ingestion, ingest)
        : refusal(verified.failed().get()));
  }

  private Route act(SnsVerifier.Verified verified, Ingestion ingestion, Function<S3Notification, Route> ingest) {
    SnsMessage message = verified.message();
    String topic = verified.topic().arn();
    try {
      return switch (message.type()) {
        case NOTIFICATION -> {
          Optional<AsyncResult> result = ingestion.noticeResult(message.message());
          yield result.isPresent()
              ? complete(JsonResponses.json(StatusCodes.OK, new ResultAnswer(message.type().word(), topic, "noticed",
                  result.get().inferenceId())))
              : ingest.apply(S3EventParser.parse(message.message().getBytes(StandardCharsets.UTF_8)));
        }
        case SUBSCRIPTION_CONFIRMATION -> {
          var subscribeUrl = AwsSnsUrls.subscribe(message.subscribeUrl(), verified.topic());
          yield onComplete(confirmer.confirm(subscribeUrl), confirmed -> {
            if (confirmed.isFailure()) {
              log.warn("Confirming the SNS subscription to {} failed ({}); SNS will deliver the confirmation again",
                  topic,
                  confirmed.failed().get().getMessage());
              return refusal(confirmed.failed().get());
            }
            log.info("Confirmed the SNS subscription to {}", topic);
            return complete(JsonResponses.json(StatusCodes.OK, new SnsAnswer(message.type().word(), topic,
                "confirmed")));
          });
        }
        case UNSUBSCRIBE_CONFIRMATION -> {
          log.warn("SNS unsubscribed this endpoint from {}; its uploads no longer arrive here until it is subscribed"
              + " again", topic);
          yield complete(JsonResponses.json(StatusCodes.OK, new SnsAnswer(message.type().word(), topic,
              "acknowledged")));
        }
      };
    } catch (RuntimeException e) {
      return refusal(e);
    }
  }

  /** Refusals of this route's own making; anything else goes to {@link ApiErrors} like every other route's. */
  private Route refusal(Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    if (cause instanceof SnsRefused refused) {
      return complete(JsonResponses.error(StatusCodes.FORBIDDEN, refused.code(), refused.getMessage()));
    }
    if (cause instanceof SnsUnavailable unavailable) {
      return complete(unavailable.upstreamAnswered()
          ? JsonResponses.error(StatusCodes.BAD_GATEWAY, unavailable.code(), unavailable.getMessage())
          : JsonResponses.error(StatusCodes.SERVICE_UNAVAILABLE, unavailable.code(), unavailable.getMessage())
              .addHeader(RetryAfter.create(ApiErrors.RETRY_AFTER_SECONDS)));
    }
    return failWith(cause);
  }
}
