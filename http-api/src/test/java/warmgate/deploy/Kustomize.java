package warmgate.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Renders a kustomization the way {@code kubectl kustomize} does, for exactly the features k8s/ uses, and fails on
 * any other, so a manifest change that needs more makes this grow instead of being skipped: {@code resources}
 * (files, possibly of several documents, and folders holding a kustomization), {@code namespace} (set on every
 * namespaced object of the folder's output), and {@code patches} with a {@code path} to a strategic-merge patch of
 * maps only (list merging follows per-field rules this does not know, so a patch with a list is refused).
 */
final class Kustomize {
  private static final Set<String> KEYS = Set.of("apiVersion", "kind", "namespace", "resources", "patches");
  private static final Set<String> CLUSTER_SCOPED = Set.of("Namespace", "ClusterRole", "ClusterRoleBinding",
      "CustomResourceDefinition", "PersistentVolume", "StorageClass", "PriorityClass");

  private Kustomize() {}

  static List<ObjectNode> build(Path dir) {
    Path file = dir.resolve("kustomization.yaml");
    if (!Files.exists(file)) {
      throw new AssertionError(dir + " has no kustomization.yaml");
    }
    JsonNode k = Repo.yaml(file);
    for (Iterator<String> names = k.fieldNames(); names.hasNext(); ) {
      String key = names.next();
      if (!KEYS.contains(key)) {
        throw new AssertionError(file + ": kustomize feature '" + key
            + "' is not supported by this renderer; teach Kustomize.java");
      }
    }
    if (!"kustomize.config.k8s.io/v1beta1".equals(k.path("apiVersion").asText())
        || !"Kustomization".equals(k.path("kind").asText())) {
      throw new AssertionError(file + ": expected apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization");
    }
    List<ObjectNode> objects = new ArrayList<>();
    for (JsonNode resource : k.path("resources")) {
      Path path = dir.resolve(resource.asText()).normalize();
      if (Files.isDirectory(path)) {
        if (dir.normalize().startsWith(path)) {
          throw new AssertionError(file + ": resource " + resource
              + " contains this kustomization (kustomize refuses the cycle)");
        }
        objects.addAll(build(path));
      } else if (Files.isRegularFile(path)) {
        for (JsonNode document : Repo.yamlDocuments(path)) {
          if (!(document instanceof ObjectNode object)) {
            throw new AssertionError(path + ": a document is not an object");
          }
          objects.add(object);
        }
      } else {
        throw new AssertionError(file + ": resource " + resource
            + " does not exist (remote resources are not supported)");
      }
    }
    for (JsonNode patch : k.path("patches")) {
      if (patch.size() != 1 || !patch.has("path")) {
        throw new AssertionError(file + ": only patches of the form {path: file} are supported, not " + patch);
      }
      apply(objects, Repo.yaml(dir.resolve(patch.path("path").asText())), dir.resolve(patch.path("path").asText()));
    }
    if (k.has("namespace")) {
      String namespace = k.path("namespace").asText();
      for (ObjectNode object : objects) {
        if (!CLUSTER_SCOPED.contains(object.path("kind").asText())) {
          metadata(object).put("namespace", namespace);
        }
      }
    }
    return objects;
  }

  private static ObjectNode metadata(ObjectNode object) {
    JsonNode metadata = object.path("metadata");
    if (!(metadata instanceof ObjectNode m)) {
      throw new AssertionError("an object has no metadata: " + object);
    }
    return m;
  }

  private static void apply(List<ObjectNode> objects, JsonNode patch, Path file) {
    String kind = patch.path("kind").asText();
    String name = patch.path("metadata").path("name").asText();
    List<ObjectNode> targets = objects.stream()
        .filter(o -> o.path("kind").asText().equals(kind)
            && o.path("metadata").path("name").asText().equals(name)).toList();
    if (targets.size() != 1) {
      throw new AssertionError(file + ": patch names " + kind + " " + name + ", which matches " + targets.size()
          + " objects");
    }
    merge(targets.get(0), (ObjectNode) patch, file, "");
  }

  private static void merge(ObjectNode target, ObjectNode patch, Path file, String at) {
    for (Map.Entry<String, JsonNode> field : patch.properties()) {
      String path = at + "/" + field.getKey();
      JsonNode value = field.getValue();
      if (value.isArray()) {
        throw new AssertionError(file + ": patching the list at " + path
            + " is not supported (strategic merge rules per field)");
      }
      if (value.isNull()) {
        throw new AssertionError(file + ": deleting " + path + " with null is not supported");
      }
      if (value.isObject() && target.get(field.getKey()) instanceof ObjectNode existing) {
        merge(existing, (ObjectNode) value, file, path);
      } else {
        target.set(field.getKey(), value.deepCopy());
      }
    }
  }
}
