package warmgate.auth;

import java.io.PrintStream;

/**
 * {@code warmgate token --name NAME [--owner OWNER] [--admin]}: prints a new token, once, and the entry
 * for {@code warmgate.auth.tokens} that holds only its hash. Nothing is stored anywhere by this command.
 */
public final class TokenCommand {
  static final String USAGE = "usage: warmgate token --name NAME [--owner OWNER] [--admin]\n"
      + "  NAME: letters, digits, '.', '_', '@', '-'; OWNER (default NAME): whose jobs the token submits and sees;\n"
      + "  --admin: sees every job, starts and stops endpoints, posts raw S3 notifications";

  private TokenCommand() {}

  public static void main(String[] args) {
    try {
      print(args, System.out);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage() + "\n" + USAGE);
      System.exit(2);
    }
  }

  /** Writes the token and its entry to {@code out}; the entry is checked by the same parser Warmgate starts with. */
  static void print(String[] args, PrintStream out) {
    String name = null;
    String owner = null;
    boolean admin = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--name" -> name = value(args, ++i, "--name");
        case "--owner" -> owner = value(args, ++i, "--owner");
        case "--admin" -> admin = true;
        case "help", "--help", "-h" -> {
          out.println(USAGE);
          return;
        }
        default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
      }
    }
    if (name == null) {
      throw new IllegalArgumentException("--name is required");
    }
    String token = Tokens.generate();
    String entry = "{ name = " + quote(name) + ", sha256 = \"" + Tokens.sha256Hex(token) + "\", owner = "
        + quote(owner == null ? name : owner) + ", admin = " + admin + " }";
    AuthSettings.entries(entry, "the new entry"); // a bad name or owner fails here, not at the next start
    out.println("Token for " + name + " (shown only now; Warmgate keeps only its SHA-256):");
    out.println("  " + token);
    out.println();
    out.println("Entry for warmgate.auth.tokens (or a line of the file in WARMGATE_AUTH_TOKENS_FILE, or "
        + "WARMGATE_AUTH_TOKENS):");
    out.println("  " + entry);
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }

  /** A HOCON/JSON string; names and owners cannot hold quotes or control characters that need more than this. */
  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
