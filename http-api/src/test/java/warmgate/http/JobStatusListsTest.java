package warmgate.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import warmgate.job.JobStatus;

// Files only: docs/openapi.yaml and the dashboard's page list the statuses JobStatus defines, in its order.
class JobStatusListsTest {
  private static final List<String> STATUSES = Arrays.stream(JobStatus.values()).map(Enum::name).toList();

  @Test
  void everyStatusEnumOfTheApiDescriptionListsJobStatusInOrder() throws IOException {
    String openapi = Files.readString(Path.of("../docs/openapi.yaml"), StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("enum: \\[(WAITING_FOR_INPUTS[^\\]]*)\\]").matcher(openapi);
    List<List<String>> enums = new ArrayList<>();
    while (m.find()) {
      enums.add(Arrays.stream(m.group(1).split(",")).map(String::trim).toList());
    }
    assertThat(enums).as("the status enums of docs/openapi.yaml").hasSize(3).allSatisfy(e ->
        assertThat(e).isEqualTo(STATUSES));
  }

  @Test
  void theDashboardsStatusFilterOffersJobStatusInOrder() throws IOException {
    String page = Files.readString(Path.of("src/main/resources/warmgate/dashboard/index.html"), StandardCharsets.UTF_8);
    String select = page.substring(page.indexOf("<select id=\"status-filter\">"), page.indexOf("</select>",
        page.indexOf("status-filter")));
    Matcher m = Pattern.compile("<option>([A-Z_]+)</option>").matcher(select);
    List<String> options = new ArrayList<>();
    while (m.find()) {
      options.add(m.group(1));
    }
    assertThat(options).as("the dashboard's status filter").isEqualTo(STATUSES);
  }

  @Test
  void everyStatusIsTerminalOrCancellableAndTheUnfinishedOnesAreNotTerminal() {
    for (JobStatus status : JobStatus.values()) {
      assertThat(status.isTerminal()).as("%s terminal", status).isNotEqualTo(status.isCancellable());
      if (status.isUnfinished()) {
        assertThat(status.isTerminal()).as("%s unfinished and terminal", status).isFalse();
      }
    }
    assertThat(JobStatus.unfinished()).containsExactly(JobStatus.WAITING_FOR_INPUTS, JobStatus.QUEUED,
        JobStatus.RUNNING, JobStatus.RETRY_WAIT);
    assertThat(JobStatus.terminal()).containsExactly(JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED);
    assertThat(JobStatus.cancellable()).doesNotContainAnyElementsOf(JobStatus.terminal())
        .contains(JobStatus.AWAITING_REVIEW);
  }
}
