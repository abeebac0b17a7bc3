package warmgate.index;

import java.nio.file.Path;

// Real PostgreSQL (a fresh database on 127.0.0.1:5432), real journal and projection; no cluster.
class PostgresJobIndexProjectionTest extends JobIndexProjectionContract {
  @Override
  TestDatabase database(Path dir) {
    return TestDatabase.postgres(dir);
  }
}
