package warmgate.request;

import java.util.concurrent.CompletionStage;

/** Delivers a job's callback; {@link HttpWebhooks} in production, a recording fake in tests. */
public interface Webhooks {

  /**
   * Posts {@code body} to {@code url}, signed.
   *
   * @param webhookId the same for every delivery of one notice, so the receiver can drop repeats
   * @return the receiver's HTTP status; a connection failure or timeout fails the stage
   */
  CompletionStage<Integer> send(String url, String webhookId, byte[] body);
}
