package warmgate;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;
import java.io.IOException;

/**
 * The one JSON mapper for everything Warmgate reads from or writes to the outside world (HTTP bodies,
 * notifications, model payloads). Its read limits are deliberately tighter than Jackson's defaults because
 * every byte it parses comes from a caller we do not trust.
 */
public final class Json {
  /** Deeper than any AWS notification or job body nests; stops stack-exhaustion payloads early. */
  public static final int MAX_NESTING_DEPTH = 64;
  /** Large enough for a base64 image inside a job payload, far below the default 20 MB. */
  public static final int MAX_STRING_LENGTH = 8 * 1024 * 1024;
  public static final int MAX_NAME_LENGTH = 1024;
  public static final int MAX_NUMBER_LENGTH = 100;

  /**
   * Read limits for request bodies (notifications, job submissions). Their size is bounded by the HTTP routes
   * ({@code warmgate.http.max-body-bytes}, 1 MiB for notifications); these bound their shape: AWS's
   * notification formats nest five levels deep, an SNS message is at most 256 KiB, and no field name or
   * number in them or in a job comes near these bounds.
   */
  public static final class Untrusted {
    public static final int MAX_NESTING_DEPTH = 32;
    public static final int MAX_STRING_LENGTH = 256 * 1024;
    public static final int MAX_NAME_LENGTH = 256;
    public static final int MAX_NUMBER_LENGTH = 32;

    private Untrusted() {}
  }

  private static final ObjectMapper MAPPER = create(
      StreamReadConstraints.builder()
          .maxNestingDepth(MAX_NESTING_DEPTH)
          .maxStringLength(MAX_STRING_LENGTH)
          .maxNameLength(MAX_NAME_LENGTH)
          .maxNumberLength(MAX_NUMBER_LENGTH)
          .build());

  private static final ObjectMapper UNTRUSTED = create(
      StreamReadConstraints.builder()
          .maxNestingDepth(Untrusted.MAX_NESTING_DEPTH)
          .maxStringLength(Untrusted.MAX_STRING_LENGTH)
          .maxNameLength(Untrusted.MAX_NAME_LENGTH)
          .maxNumberLength(Untrusted.MAX_NUMBER_LENGTH)
          .build());

  private Json() {}

  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /** The mapper for request bodies: {@link Untrusted}'s limits. Prefer {@link #readUntrusted}. */
  public static ObjectMapper untrusted() {
    return UNTRUSTED;
  }

  /**
   * Parses a request body with {@link Untrusted}'s limits. Every failure is an {@link InvalidInput}: code
   * {@code invalid_json} for an empty or malformed body, {@code json_limit_exceeded} for one nested too
   * deep or with too long a string, name or number.
   *
   * @param expected what the body should have been, for the message ("an S3 event notification")
   */
  public static JsonNode readUntrusted(byte[] body, String expected) {
    if (body == null || body.length == 0) {
      throw new InvalidInput("invalid_json", "the body is empty; expected " + expected);
    }
    JsonNode root;
    try {
      root = UNTRUSTED.readTree(body);
    } catch (StreamConstraintsException e) {
      throw new InvalidInput("json_limit_exceeded", "the body exceeds a limit on JSON read from outside: "
          + e.getOriginalMessage());
    } catch (JacksonException e) {
      throw new InvalidInput("invalid_json", "the body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new InvalidInput("invalid_json", "the body could not be read: " + e.getMessage());
    }
    if (root == null || root.isMissingNode()) {
      throw new InvalidInput("invalid_json", "the body holds no JSON value; expected " + expected);
    }
    return root;
  }

  private static ObjectMapper create(StreamReadConstraints limits) {
    JsonFactory factory = JsonFactory.builder().streamReadConstraints(limits).build();
    return new ObjectMapper(factory)
        .registerModule(new JavaTimeModule())
        .registerModule(new Jdk8Module())
        .registerModule(new ParameterNamesModule())
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  }
}
