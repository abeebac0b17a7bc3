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
 */
public record Principal(String name, String owner, boolean admin) {
  /** Anything but a slash and control characters: an owner is one path segment of an upload key. */
  static final Pattern OWNER = Pattern.compile("[^/\\p{Cntrl}]{1,128}");

  /** Everyone, when authentication is off: an admin with no owner of its own, as before tokens existed. */
  public static final Principal UNAUTHENTICATED = new Principal("anonymous", null, true);

  public Principal {
    Objects.requireNonNull(name, "name");
    if (owner == null && !admin) {
      throw new IllegalArgumentException("a principal that is not an admin needs an owner");
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
      throw new Forbidden("token " + name + " submits jobs as owner '" + owner + "' only; leave out 'owner' or use an admin token");
    }
    return requested;
  }

  /** Throws {@link Forbidden} unless this is an admin; {@code action} completes the sentence "... needs an admin token". */
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
