import { oneLine } from '../tasks/output-lines.js';
import { isTerminal } from '../tasks/status.js';
import type { TaskRecord } from '../tasks/task-record.js';

/**
 * The note a parent's hand-off ends with (issue 26): every task it started, so a summary never
 * loses a task handle, whatever the summary itself kept. A task still open, or whose result the
 * parent has not seen, gets a line with its id, status and goal; one that ended and was seen only
 * its id and status (the note stays short for a parent of hundreds). Oldest first. Undefined when
 * it started none.
 */
export function taskHandlesNote(tasks: readonly TaskRecord[]): string | undefined {
  if (tasks.length === 0) return undefined;
  const ordered = [...tasks].sort((a, b) => a.createdAt - b.createdAt);
  const done = (task: TaskRecord): boolean => isTerminal(task.status) && task.reported;
  const open = ordered.filter((task) => !done(task)).map((task) => `- ${task.id} [${task.status}] ${oneLine(task.goal, 120)}`);
  const seen = ordered.filter(done).map((task) => `${task.id} (${task.status})`);
  return [
    `Tasks you started (${tasks.length}), as they stood at this compaction; check_task, collect_task and list_tasks give their current status:`,
    ...open,
    ...(seen.length > 0 ? [`Ended, result already seen: ${seen.join(', ')}`] : []),
  ].join('\n');
}
