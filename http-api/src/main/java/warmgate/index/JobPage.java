package warmgate.index;

import java.util.List;

/**
 * One page of a job list, newest first.
 *
 * @param nextCursor what to pass as {@code cursor} for the next page; null on the last page
 */
public record JobPage(List<JobRow> jobs, String nextCursor) {}
