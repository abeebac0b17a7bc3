package warmgate.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The repository's files as the tests read them: YAML with Kubernetes' scalar rules, the conf files' variables. */
public final class Repo {
  static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Pattern ENV_SUBSTITUTION = Pattern.compile("\\$\\{\\?([A-Z0-9_]+)}");

  private Repo() {}

  /** The repository root: the first folder up from the module that holds k8s/kustomization.yaml. */
  public static Path root() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.exists(dir.resolve("k8s/kustomization.yaml"))) {
        return dir;
      }
    }
    throw new IllegalStateException("no k8s/kustomization.yaml above " + Path.of("").toAbsolutePath());
  }

  static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Every document of a YAML file. Scalars resolve as YAML 1.1 does, like the YAML library Kubernetes uses: an
   * unquoted {@code on} or {@code yes} is a boolean, so a manifest that means a string has to quote it, and the
   * model validation catches one that does not. Duplicate keys are refused, as {@code kubectl apply} refuses them.
   */
  static List<JsonNode> yamlDocuments(Path file) {
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return yamlDocuments(reader);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** As {@link #yamlDocuments(Path)}, for text a tool printed (kubectl kustomize, helm template). */
  static List<JsonNode> yamlDocuments(String text) {
    return yamlDocuments(new StringReader(text));
  }

  private static List<JsonNode> yamlDocuments(Reader reader) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    Yaml yaml = new Yaml(new SafeConstructor(options));
    List<JsonNode> documents = new ArrayList<>();
    for (Object document : yaml.loadAll(reader)) {
      if (document != null) {
        documents.add(MAPPER.valueToTree(document));
      }
    }
    return documents;
  }

  static JsonNode yaml(Path file) {
    List<JsonNode> documents = yamlDocuments(file);
    if (documents.size() != 1) {
      throw new AssertionError(file + " holds " + documents.size() + " documents, expected one");
    }
    return documents.get(0);
  }

  /** The conf files application.conf includes, as text: what the node reads. */
  static List<String> confTexts() {
    Path resources = root().resolve("http-api/src/main/resources");
    List<String> texts = new ArrayList<>();
    String application = read(resources.resolve("application.conf"));
    texts.add(application);
    Matcher include = Pattern.compile("(?m)^include \"([^\"]+)\"").matcher(application);
    while (include.find()) {
      texts.add(read(resources.resolve(include.group(1) + ".conf")));
    }
    return texts;
  }

  /** The environment variables the configuration reads: {@code ${?NAME}} in the conf files, {@code ${NAME:-...}} in
   * logback.xml. */
  static List<String> environmentVariablesRead() {
    List<String> names = new ArrayList<>();
    for (String text : confTexts()) {
      Matcher m = ENV_SUBSTITUTION.matcher(text);
      while (m.find()) {
        names.add(m.group(1));
      }
    }
    Matcher logback = Pattern.compile("\\$\\{([A-Z0-9_]+):-").matcher(read(root()
        .resolve("http-api/src/main/resources/logback.xml")));
    while (logback.find()) {
      names.add(logback.group(1));
    }
    return names;
  }

  static String text(JsonNode node, String path) {
    JsonNode at = node.at(path);
    return at.isMissingNode() || at.isNull() ? null : Objects.toString(at.isTextual() ? at.asText() : at.toString());
  }
}
