import type { AgentEvent } from '../agent/events.js';
import { oneLine } from '../tasks/output-lines.js';
import type { TaskEvent } from '../tasks/task-events.js';

/** Short human lines for progress on stderr: tool calls, retries, task lifecycle. */
export function progressLine(event: AgentEvent): string | undefined {
  switch (event.type) {
    case 'tool.started':
      return `  ⚙ ${event.name} ${oneLine(event.arguments, 100)}`;
    case 'tool.finished':
      return event.isError ? `  ✗ ${event.name}: ${oneLine(event.content, 160)}` : undefined;
    case 'model.finished':
      // Thinking, folded to one line (the chat and `run` show it dim).
      return event.reasoning ? `  ✻ thinking: ${oneLine(event.reasoning, 160)}` : undefined;
    case 'model.retry':
      // `attempt` is the attempt about to be made (2 for the first retry); people count retries from 1.
      return `  ↻ retry ${event.attempt - 1} of the model call in ${Math.round(event.delayMs)} ms${event.discarded ? ' (the partial reply above is discarded)' : ''}: ${oneLine(event.reason, 120)}`;
    default:
      return undefined;
  }
}

export function taskLine(event: TaskEvent): string | undefined {
  switch (event.type) {
    case 'task.spawned':
      return event.task.depth === 1
        ? `  ▸ task ${event.task.id} ${event.task.mode === 'sync' ? 'delegated' : 'spawned'}: ${oneLine(event.task.goal, 70)}`
        : undefined;
    case 'task.ended':
      return event.task.depth === 1
        ? `  ◂ task ${event.task.id} ${event.task.status}` +
            `${event.task.error && event.task.status !== 'completed' ? `: ${oneLine(event.task.error, 100)}` : ''}`
        : undefined;
    default:
      return undefined;
  }
}

/** `legate run`'s task lines: `taskLine`'s, and a child being steered. */
export function runTaskLine(event: TaskEvent): string | undefined {
  if (event.type === 'task.steered') return `  ↪ task ${event.taskId} steered: ${oneLine(event.message, 100)}`;
  if (event.type === 'task.store_error') return `  ✗ task ${event.taskId}: ${oneLine(event.error, 160)}`;
  return taskLine(event);
}

/** The parent's text between tool calls (what it says it is doing), as `legate run` shows it. */
export function parentTextLine(event: AgentEvent): string | undefined {
  return event.type === 'model.finished' && event.text.trim() && event.toolCalls > 0 ? `parent› ${oneLine(event.text, 200)}` : undefined;
}
