package warmgate.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ReportTest {
  @Test
  void rendersAMarkdownTableWithItsNotes() {
    String md = new Report("example", "run", "jobs/s").row("warmgate", 5000).row("direct", 9000)
        .note("2 cores").markdown();
    assertThat(md).contains("| run | jobs/s |\n|---|---|\n| warmgate | 5000 |\n| direct | 9000 |\n\n2 cores\n");
    assertThat(md).startsWith("<!-- example, ");
  }

  @Test
  void refusesARowOfTheWrongWidth() {
    assertThatThrownBy(() -> new Report("example", "a", "b").row(1)).isInstanceOf(IllegalArgumentException.class);
  }
}
