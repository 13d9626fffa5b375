/**
 * Results that do not flood the parent (issue 26): a child's summary longer than
 * `delegation.max_summary_chars` reaches the parent as its head and tail with a marker naming the
 * task and how to read the rest; the store keeps it whole. A batch's summaries (delegate_task
 * `tasks[]`, collect_task `task_ids`) share a cap of `batchSummaryFactor` summaries' worth.
 */

export const defaultMaxSummaryChars = 12_000;

/** A batch's summaries together: this many full summaries' worth of characters. */
export const batchSummaryFactor = 4;

export interface CappedSummary {
  summary: string;
  /** Present when cut: the whole summary's length, and where its cut part starts (the `offset` to read it from). */
  cut?: { totalChars: number; omittedFrom: number; omittedChars: number };
}

/** `summary` within `maxChars`: whole, or head + marker + tail. */
export function capSummary(taskId: string, summary: string, maxChars: number): CappedSummary {
  if (summary.length <= maxChars) return { summary };
  const markerFor = (from: number, omitted: number): string =>
    `\n\n[… ${omitted} of ${summary.length} characters of task ${taskId}'s summary cut here; it is stored whole: ` +
    `read the rest with check_task {"task_id":"${taskId}","offset":${from}} or \`legate tasks show ${taskId}\` …]\n\n`;
  // The marker's own length comes out of the budget; its digits barely change with the cut.
  const room = Math.max(2, maxChars - markerFor(summary.length, summary.length).length);
  const head = Math.ceil(room / 2);
  const tail = Math.floor(room / 2);
  const omitted = summary.length - head - tail;
  return {
    summary: `${summary.slice(0, head)}${markerFor(head, omitted)}${summary.slice(summary.length - tail)}`,
    cut: { totalChars: summary.length, omittedFrom: head, omittedChars: omitted },
  };
}

/**
 * Each summary's share of a batch cap `total`, none above `perItem`: short summaries keep all they
 * have and what they leave over goes to the long ones (water-filling).
 */
export function batchShares(lengths: readonly number[], total: number, perItem: number): number[] {
  const shares = lengths.map(() => 0);
  let left = total;
  let open = lengths.map((_, index) => index).sort((a, b) => lengths[a]! - lengths[b]!);
  while (open.length > 0) {
    const fair = Math.floor(left / open.length);
    const index = open[0]!;
    const wants = Math.min(lengths[index]!, perItem);
    if (wants <= fair) {
      shares[index] = wants;
      left -= wants;
      open = open.slice(1);
      continue;
    }
    for (const rest of open) shares[rest] = Math.min(perItem, fair);
    break;
  }
  return shares;
}

/** The JSON fields of a result's summary: `summary`, and when cut `summary_chars` and `summary_truncated`. */
export function summaryFields(taskId: string, summary: string | undefined, maxChars: number): Record<string, unknown> {
  const capped = capSummary(taskId, summary ?? '', maxChars);
  return {
    summary: capped.summary,
    ...(capped.cut ? { summary_truncated: true, summary_chars: capped.cut.totalChars } : {}),
  };
}
