package warmgate.endpoint;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.pekko.serialization.jackson.JacksonMigration;

/**
 * Reads the endpoint's commands and replies under the names builds before the split sent them with
 * ({@code warmgate.endpoint.EndpointLifecycle$Acquire}), so a node of this build understands an older one during a
 * rolling update. Configured per old name in this module's {@code reference.conf}; the fields are unchanged.
 */
public final class RenamedMessages extends JacksonMigration {
  private static final String OLD = "warmgate.endpoint.EndpointLifecycle$";
  private static final String NEW = "warmgate.endpoint.EndpointCommand$";

  @Override
  public int currentVersion() {
    // Above the version an unversioned manifest reads as (1): the serializer renames only older data.
    return 2;
  }

  @Override
  public String transformClassName(int fromVersion, String className) {
    return className.startsWith(OLD) ? NEW + className.substring(OLD.length()) : className;
  }

  @Override
  public JsonNode transform(int fromVersion, JsonNode json) {
    return json;
  }
}
