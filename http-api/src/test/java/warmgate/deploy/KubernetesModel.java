package warmgate.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Collection;
import java.util.Map;

/**
 * Reads rendered manifests into the Kubernetes object model (fabric8's classes) strictly: a kind or apiVersion it
 * does not list, a field the model does not have (fabric8 would keep it aside in additionalProperties, so every
 * object is searched for one), or a value of the wrong type (a string where a number belongs, a number or boolean
 * where a string belongs) fails with the path to it.
 */
final class KubernetesModel {
  private static final Map<String, Kind> KINDS = Map.of(
      "ServiceAccount", new Kind("v1", ServiceAccount.class),
      "ConfigMap", new Kind("v1", ConfigMap.class),
      "Service", new Kind("v1", Service.class),
      "Deployment", new Kind("apps/v1", Deployment.class),
      "StatefulSet", new Kind("apps/v1", StatefulSet.class),
      "Role", new Kind("rbac.authorization.k8s.io/v1", Role.class),
      "RoleBinding", new Kind("rbac.authorization.k8s.io/v1", RoleBinding.class),
      "PodDisruptionBudget", new Kind("policy/v1", PodDisruptionBudget.class));

  private record Kind(String apiVersion, Class<? extends HasMetadata> type) {}

  private static final ObjectMapper STRICT = strict();

  private KubernetesModel() {}

  private static ObjectMapper strict() {
    JsonMapper mapper = JsonMapper.builder()
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES,
            DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
        .build();
    for (LogicalType type : new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean}) {
      mapper.coercionConfigFor(type).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
    }
    for (CoercionInputShape shape : new CoercionInputShape[] {CoercionInputShape.Integer, CoercionInputShape.Float,
        CoercionInputShape.Boolean}) {
      mapper.coercionConfigFor(LogicalType.Textual).setCoercion(shape, CoercionAction.Fail);
    }
    return mapper;
  }

  static HasMetadata read(JsonNode document) {
    String kindName = document.path("kind").asText();
    Kind kind = KINDS.get(kindName);
    String name = kindName + " " + document.path("metadata").path("name").asText("(unnamed)");
    if (kind == null) {
      throw new AssertionError(name + ": kind " + kindName
          + " is not one this test knows; add it to KubernetesModel.KINDS");
    }
    if (!kind.apiVersion().equals(document.path("apiVersion").asText())) {
      throw new AssertionError(name + ": apiVersion " + document.path("apiVersion") + ", expected "
          + kind.apiVersion());
    }
    if (document.path("metadata").path("name").asText().isEmpty()) {
      throw new AssertionError(name + ": metadata.name is missing");
    }
    HasMetadata object;
    try {
      object = STRICT.treeToValue(document, kind.type());
    } catch (Exception e) {
      throw new AssertionError(name + " does not fit the Kubernetes model: " + e.getMessage(), e);
    }
    noUnknownFields(object, name);
    return object;
  }

  /** Walks fabric8 objects, lists and maps; any additionalProperties entry is a field Kubernetes does not have. */
  private static void noUnknownFields(Object value, String path) {
    if (value instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        noUnknownFields(item, path + "[" + i++ + "]");
      }
      return;
    }
    if (value instanceof Map<?, ?> map) {
      map.forEach((k, v) -> noUnknownFields(v, path + "." + k));
      return;
    }
    if (value == null || !value.getClass().getName().startsWith("io.fabric8.")) {
      return;
    }
    for (Method getter : value.getClass().getMethods()) {
      if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
          || !getter.getName().startsWith("get")
          || getter.getDeclaringClass() == Object.class || getter.getName().equals("getNumericalAmount")) {
        continue;
      }
      Object field;
      try {
        field = getter.invoke(value);
      } catch (IllegalAccessException | InvocationTargetException e) {
        continue; // computed accessors (e.g. a Quantity's parsed amount) are not fields
      }
      if (getter.getName().equals("getAdditionalProperties")) {
        if (field instanceof Map<?, ?> extra && !extra.isEmpty()) {
          throw new AssertionError(path + " has fields Kubernetes does not know: " + extra.keySet());
        }
        continue;
      }
      noUnknownFields(field, path + "." + Character.toLowerCase(getter.getName().charAt(3))
          + getter.getName().substring(4));
    }
  }
}
