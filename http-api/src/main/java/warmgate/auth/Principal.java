package warmgate.auth;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Who a request comes from, as its bearer token says.
 *
 * @param name the token's name, for logs and messages
 * @param owner whose jobs the principal submits and sees (the {@code {user}} of an upload key); null only
 *     for {@link #UNAUTHENTICATED}
 * @param admin sees and acts on every job, starts and stops endpoints, posts raw S3 notifications
 * @param scope the key prefix, with {@code {owner}} standing for {@link #owner}, under which a principal that is
 *     not an admin may name objects (docs/security.md); admins name any object the configuration allows
 */
public record Principal(String name, String owner, boolean admin, String scope) {
  /** Where a Gen3D upload of {@code owner} lives: {@code users/{owner}/input/...}, its result under {@code output/}. */
  public static final String DEFAULT_SCOPE = "users/{owner}/";
  /** Anything but a slash and control characters: an owner is one path segment of an upload key. */
  static final Pattern OWNER = Pattern.compile("[^/\\p{Cntrl}]{1,128}");

  /** Everyone, when authentication is off: an admin with no owner of its own, as before tokens existed. */
  public static final Principal UNAUTHENTICATED = new Principal("anonymous", null, true);

  public Principal {
    Objects.requireNonNull(name, "name");
    if (owner == null && !admin) {
      throw new IllegalArgumentException("a principal that is not an admin needs an owner");
    }
    String problem = scopeProblem(scope);
    if (problem != null) {
      throw new IllegalArgumentException("scope '" + scope + "' " + problem);
    }
  }

  /** With the default scope, {@link #DEFAULT_SCOPE}. */
  public Principal(String name, String owner, boolean admin) {
    this(name, owner, admin, DEFAULT_SCOPE);
  }

  /** Why {@code scope} cannot be a token's scope, or null when it can. */
  public static String scopeProblem(String scope) {
    if (scope == null || scope.isEmpty() || !scope.endsWith("/")) {
      // Without the closing '/', users/al would also reach users/alice/.
      return "must be a key prefix ending in '/', e.g. " + DEFAULT_SCOPE;
    }
    if (scope.replace("{owner}", "owner").chars().anyMatch(Character::isISOControl) || scope.startsWith("/")) {
      return "must not start with '/' or hold control characters";
    }
    return null;
  }

  /** The key prefix this principal's objects live under: {@link #scope} with its owner filled in. */
  public String scopePrefix() {
    return scope.replace("{owner}", owner == null ? "" : owner);
  }

  /**
   * Throws {@link Forbidden} unless this principal may read or write {@code ref} (named {@code field} in the
   * request): an admin may, anyone else only inside {@link #scopePrefix}.
   */
  public void requireInScope(String field, warmgate.job.ObjectRef ref) {
    if (!admin && !ref.key().startsWith(scopePrefix())) {
      throw new Forbidden("'" + field + "': token " + name + " may name objects under " + scopePrefix()
          + " only, not " + ref + " (rule: owner-scope)");
    }
  }

  /** Whether this principal may see and act on a job owned by {@code jobOwner} (null: a job without owner). */
  public boolean mayAccess(String jobOwner) {
    return admin || owner.equals(jobOwner);
  }

  /**
   * The owner of a job this principal submits: its own when the body names none; the named one for an
   * admin; anyone else's is {@link Forbidden}.
   */
  public String ownerOfSubmission(String requested) {
    if (requested == null || requested.equals(owner)) {
      return owner;
    }
    if (!admin) {
      throw new Forbidden("token " + name + " submits jobs as owner '" + owner
          + "' only; leave out 'owner' or use an admin token");
    }
    return requested;
  }

  /** Throws {@link Forbidden} unless this is an admin; {@code action} completes the sentence "... needs an admin
   * token". */
  public void requireAdmin(String action) {
    if (!admin) {
      throw new Forbidden(action + " needs an admin token; token " + name + " is not one");
    }
  }

  /** An owner a token or a job may have: it must fit as one segment of an upload key. */
  public static boolean validOwner(String owner) {
    return owner != null && !owner.isBlank() && OWNER.matcher(owner).matches();
  }
}
