package warmgate.deploy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A rendered kustomization, read into the Kubernetes model, and what a pod of its Deployment would see. Public for
 * warmgate.e2e.KubernetesDiscoveryIT, which starts nodes the way the Deployment's pods are configured.
 */
public record Manifests(List<HasMetadata> objects) {
  /** Stands for status.podIP wherever a pod reads it. */
  static final String POD_IP = "10.1.2.3";

  public static Manifests render(Path kustomizationDir) {
    return new Manifests(Kustomize.build(kustomizationDir).stream().map(KubernetesModel::read).toList());
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  <T extends HasMetadata> T one(Class<T> type, String name) {
    List<T> found = all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).toList();
    if (found.size() != 1) {
      throw new AssertionError(found.size() + " " + type.getSimpleName() + " named " + name);
    }
    return found.get(0);
  }

  public Deployment deployment() {
    return one(Deployment.class, "warmgate");
  }

  Container container() {
    List<Container> containers = deployment().getSpec().getTemplate().getSpec().getContainers();
    if (containers.size() != 1) {
      throw new AssertionError("the Deployment runs " + containers.size() + " containers, expected one");
    }
    return containers.get(0);
  }

  /**
   * The pod's environment: the ConfigMaps it takes whole, then its own entries. A field reference reads as
   * {@link #POD_IP}, a Secret's key as {@code <secret>/<key>} (the Secret is not in the repository).
   */
  Map<String, String> podEnvironment() {
    return podEnvironment(POD_IP);
  }

  /** As {@link #podEnvironment()}, with {@code podIp} wherever a pod reads status.podIP. */
  public Map<String, String> podEnvironment(String podIp) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvFromSource from : container().getEnvFrom()) {
      if (from.getConfigMapRef() == null) {
        throw new AssertionError("envFrom other than a ConfigMap: " + from);
      }
      env.putAll(one(ConfigMap.class, from.getConfigMapRef().getName()).getData());
    }
    for (EnvVar var : container().getEnv()) {
      if (var.getValue() != null) {
        env.put(var.getName(), var.getValue());
      } else if (var.getValueFrom().getFieldRef() != null) {
        if (!"status.podIP".equals(var.getValueFrom().getFieldRef().getFieldPath())) {
          throw new AssertionError(var.getName() + " reads " + var.getValueFrom().getFieldRef().getFieldPath()
              + "; only status.podIP is expected");
        }
        env.put(var.getName(), podIp);
      } else if (var.getValueFrom().getSecretKeyRef() != null) {
        env.put(var.getName(), var.getValueFrom().getSecretKeyRef().getName() + "/"
            + var.getValueFrom().getSecretKeyRef().getKey());
      } else if (var.getValueFrom().getConfigMapKeyRef() != null) {
        var ref = var.getValueFrom().getConfigMapKeyRef();
        env.put(var.getName(), one(ConfigMap.class, ref.getName()).getData().get(ref.getKey()));
      } else {
        throw new AssertionError(var.getName() + ": unexpected valueFrom " + var.getValueFrom());
      }
    }
    return env;
  }

  /** The file named by -Dconfig.file in JAVA_TOOL_OPTIONS, found through the container's mounts in its ConfigMap. */
  String configFile() {
    String options = podEnvironment().getOrDefault("JAVA_TOOL_OPTIONS", "");
    Matcher m = Pattern.compile("-Dconfig\\.file=(\\S+)").matcher(options);
    if (!m.find()) {
      throw new AssertionError("JAVA_TOOL_OPTIONS names no -Dconfig.file: " + options);
    }
    Path file = Path.of(m.group(1));
    for (VolumeMount mount : container().getVolumeMounts()) {
      if (file.getParent().equals(Path.of(mount.getMountPath()))) {
        Volume volume = deployment().getSpec().getTemplate().getSpec().getVolumes().stream()
            .filter(v -> v.getName().equals(mount.getName())).findFirst()
            .orElseThrow(() -> new AssertionError("no volume " + mount.getName()));
        if (volume.getConfigMap() == null) {
          throw new AssertionError("the config file's volume " + volume.getName() + " is not a ConfigMap");
        }
        String text = one(ConfigMap.class,
            volume.getConfigMap().getName()).getData().get(file.getFileName().toString());
        if (text == null) {
          throw new AssertionError("ConfigMap " + volume.getConfigMap().getName() + " has no key "
              + file.getFileName());
        }
        return text;
      }
    }
    throw new AssertionError("no volume is mounted at " + file.getParent());
  }

  /** The configuration a pod starts with: its config file over application.conf, its environment in the ${?VAR}s. */
  Config podConfig() {
    return effectiveConfig(configFile(), podEnvironment());
  }

  /**
   * {@code config} (a file that includes application.conf) as a node with {@code env} as its environment reads it.
   * The variables go in at the root, where HOCON looks for {@code ${?VAR}} before the process environment, which
   * is left out.
   */
  static Config effectiveConfig(String config, Map<String, String> env) {
    Config file = ConfigFactory.parseString(config,
        ConfigParseOptions.defaults().setClassLoader(Manifests.class.getClassLoader()));
    return ConfigFactory.parseMap(env).withFallback(file).withFallback(ConfigFactory.defaultReference())
        .resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(false));
  }
}
