import { DEFAULT_MAX_OUTPUT_CHARS } from '../tools/output-cap.js';
import { batchShares, batchSummaryFactor } from './summary-cap.js';

/**
 * A delegation result as the parent reads it stays whole JSON under the tool output cap: a result
 * cut in the middle by the cap loses its end (and its JSON). What gives way, in order: the older
 * lines of the output tails, then the summaries' shares (each cut summary names how to read the
 * rest). The fields that say what happened (status, errors, usage) always stay.
 */

/** Characters one delegation result may take: the tool output cap, less a margin for the frame. */
export const resultCap = DEFAULT_MAX_OUTPUT_CHARS - 200;

export interface FitPart {
  summaryLength: number;
  output: string[];
}

/**
 * `render(shares, outputs)` with the largest summary shares and output tails that fit `cap`.
 * `maxSummary`: one summary's cap; a batch of several shares `batchSummaryFactor` of them.
 */
export function fitResult<T extends object>(
  parts: readonly FitPart[],
  maxSummary: number,
  render: (summaryShares: number[], outputs: string[][]) => T,
  cap = resultCap,
): T {
  const outputs = parts.map((part) => [...part.output]);
  const lengths = parts.map((part) => part.summaryLength);
  let total = parts.length > 1 ? maxSummary * batchSummaryFactor : maxSummary;
  for (let round = 0; ; round++) {
    const shares = batchShares(lengths, total, maxSummary);
    const rendered = render(shares, outputs);
    let over = JSON.stringify(rendered).length - cap;
    if (over <= 0 || round >= 12) return rendered;
    // Older output lines go first (the longest tail loses lines first)…
    while (over > 0) {
      const longest = outputs.reduce((best, lines, index) => (lines.length > (outputs[best]?.length ?? 0) ? index : best), 0);
      const lines = outputs[longest];
      if (!lines || lines.length === 0) break;
      over -= JSON.stringify(lines.shift()).length;
    }
    if (over <= 0) continue;
    // …then the summaries' shares.
    total = Math.max(0, shares.reduce((sum, share) => sum + share, 0) - over - 64);
  }
}
