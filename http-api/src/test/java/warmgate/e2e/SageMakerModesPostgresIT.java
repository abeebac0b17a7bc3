package warmgate.e2e;

import java.util.Map;

// One real node on the real PostgreSQL journal (a fresh database, dropped afterwards), S3Proxy and the SageMaker
// stand-in in this JVM, real HTTP on loopback: the scenarios of SageMakerModesContract.
class SageMakerModesPostgresIT extends SageMakerModesContract {
  private Postgres postgres;

  @Override
  protected Map<String, Object> journal() {
    postgres = new Postgres();
    return Map.of("warmgate.database.url", postgres.url, "warmgate.database.user", Postgres.USER);
  }

  @Override
  protected void dropJournal() {
    if (postgres != null) {
      postgres.close();
    }
  }
}
