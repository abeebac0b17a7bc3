package warmgate.bench.buffered;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH: the cost of one job's work without Warmgate ({@link DirectCall}: two 1 KiB inputs read from an in-memory
 * bucket, payload built, zero-work model called, output written), the floor under section 3's per-job overhead.
 * {@code bench/run jmh DirectCallBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class DirectCallBenchmark {
  private DirectCall direct;
  private int next;

  @Setup
  public void setUp() {
    direct = new DirectCall(10_000, 1024, 0);
  }

  @Benchmark
  public void inferenceStep() {
    direct.runOne(next++);
  }
}
