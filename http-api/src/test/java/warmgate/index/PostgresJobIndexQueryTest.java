package warmgate.index;

import java.nio.file.Path;

// Real PostgreSQL (a fresh database on 127.0.0.1:5432); rows written by the projection's fold, no actor system.
class PostgresJobIndexQueryTest extends JobIndexQueryContract {
  @Override
  TestDatabase database(Path dir) {
    return TestDatabase.postgres(dir);
  }
}
