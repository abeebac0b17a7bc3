package warmgate;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;

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

  private static final ObjectMapper MAPPER = create();

  private Json() {}

  public static ObjectMapper mapper() {
    return MAPPER;
  }

  private static ObjectMapper create() {
    JsonFactory factory =
        JsonFactory.builder()
            .streamReadConstraints(
                StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_NESTING_DEPTH)
                    .maxStringLength(MAX_STRING_LENGTH)
                    .maxNameLength(MAX_NAME_LENGTH)
                    .maxNumberLength(MAX_NUMBER_LENGTH)
                    .build())
            .build();
    return new ObjectMapper(factory)
        .registerModule(new JavaTimeModule())
        .registerModule(new Jdk8Module())
        .registerModule(new ParameterNamesModule())
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  }
}
