package warmgate.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

// The node's payload budget, a plain class; no actors.
class PayloadBudgetTest {

  @Test
  void grantsWhileTheBytesFitAndMakesTheNextWaitUntilEnoughComeBack() {
    var budget = new PayloadBudget(100);
    var first = budget.acquire(60).toCompletableFuture();
    var second = budget.acquire(30).toCompletableFuture();
    var third = budget.acquire(50).toCompletableFuture();

    assertThat(first).isCompleted();
    assertThat(second).isCompleted();
    assertThat(third).isNotDone();
    assertThat(budget.inUse()).isEqualTo(90);
    assertThat(budget.waiting()).isEqualTo(1);
    assertThat(budget.waits()).isEqualTo(1);

    second.join().close();
    assertThat(third).as("60 + 50 would be 110 of 100").isNotDone();
    first.join().close();
    assertThat(third).isCompleted();
    assertThat(budget.inUse()).isEqualTo(50);
    assertThat(budget.waiting()).isZero();
    assertThat(budget.waitedSeconds()).isGreaterThanOrEqualTo(0);
  }

  @Test
  void waitersAreServedInArrivalOrderSoALargeOneIsNotOvertakenByLaterSmallOnes() {
    var budget = new PayloadBudget(100);
    var held = budget.acquire(50).toCompletableFuture().join();
    var large = budget.acquire(80).toCompletableFuture();
    var small = budget.acquire(10).toCompletableFuture();

    assertThat(large).isNotDone();
    assertThat(small).as("fits, but arrived after a waiting one").isNotDone();

    held.close();
    assertThat(large).isCompleted();
    assertThat(small).isCompleted();
    assertThat(budget.inUse()).isEqualTo(90);
  }

  @Test
  void oneAskingForMoreThanTheWholeBudgetGetsAllOfItAndRunsAlone() {
    var budget = new PayloadBudget(100);
    var huge = budget.acquire(1_000).toCompletableFuture();
    assertThat(huge).isCompleted();
    assertThat(huge.join().bytes()).isEqualTo(100);

    CompletableFuture<PayloadBudget.Lease> next = budget.acquire(1).toCompletableFuture();
    assertThat(next).isNotDone();
    huge.join().close();
    assertThat(next).isCompleted();
  }

  @Test
  void closingALeaseTwiceGivesItsBytesBackOnce() {
    var budget = new PayloadBudget(100);
    var lease = budget.acquire(70).toCompletableFuture().join();
    var other = budget.acquire(30).toCompletableFuture().join();
    lease.close();
    lease.close();
    assertThat(budget.inUse()).isEqualTo(30);
    other.close();
    assertThat(budget.inUse()).isZero();
  }

  @Test
  void readsAShareOfTheHeapOrASizeFromConfig() {
    var share = PayloadBudget.fromConfig(com.typesafe.config.ConfigFactory.parseString("payload-budget = \"25%\""));
    assertThat(share.capacity()).isEqualTo((long) (Runtime.getRuntime().maxMemory() * 0.25));
    var size = PayloadBudget.fromConfig(com.typesafe.config.ConfigFactory.parseString("payload-budget = 64m"));
    assertThat(size.capacity()).isEqualTo(64L << 20);
    assertThatThrownBy(() -> PayloadBudget.fromConfig(com.typesafe.config.ConfigFactory.parseString(
        "payload-budget = \"many%\""))).hasMessageContaining("not a percentage");
  }
}
