import { oneLine } from '../tasks/output-lines.js';
import type { TaskRecord } from '../tasks/task-record.js';

/**
 * The note a parent's hand-off ends with (issue 26): every task it started, with its id, goal and
 * status, so a summary never loses a task handle, whatever the summary itself kept. Undefined when
 * it started none. Oldest first, as they were started.
 */
export function taskHandlesNote(tasks: readonly TaskRecord[]): string | undefined {
  if (tasks.length === 0) return undefined;
  const lines = [...tasks]
    .sort((a, b) => a.createdAt - b.createdAt)
    .map((task) => `- ${task.id} [${task.status}${task.reported ? ', result seen' : ''}] ${oneLine(task.goal, 160)}`);
  return [`Tasks you started (${tasks.length}), as they stand now; check_task, collect_task and list_tasks read them:`, ...lines].join('\n');
}
