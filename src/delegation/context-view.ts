import { formatTokens } from '../agent/context/context-windows.js';
import type { ContextUse } from '../tasks/task-record.js';

/**
 * "context 61% of 200k, compacted 2×": a task's context in use as `check_task`, `legate tasks
 * show`, the chat dock and the dashboard say it. Without a known window: "context 12k tokens".
 */
export function contextLine(use: ContextUse | undefined): string | undefined {
  if (!use) return undefined;
  const size =
    use.window !== undefined && use.window > 0
      ? `context ${Math.round((use.tokens / use.window) * 100)}% of ${formatTokens(use.window)}`
      : `context ${formatTokens(use.tokens)} tokens (window unknown)`;
  return use.compactions > 0 ? `${size}, compacted ${use.compactions}×` : size;
}
