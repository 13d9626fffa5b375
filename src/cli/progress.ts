import type { AgentEvent } from '../agent/events.js';
import type { TaskEvent } from '../tasks/task-events.js';
import { oneLine } from '../tasks/output-lines.js';

/** Short human lines for progress on stderr: tool calls, retries, task lifecycle. */
export function progressLine(event: AgentEvent): string | undefined {
  switch (event.type) {
    case 'tool.started':
      return `  ⚙ ${event.name} ${oneLine(event.arguments, 100)}`;
    case 'tool.finished':
      return event.isError ? `  ✗ ${event.name}: ${oneLine(event.content, 160)}` : undefined;
    case 'model.retry':
      return `  ↻ model call retry ${event.attempt} in ${Math.round(event.delayMs)} ms: ${oneLine(event.reason, 120)}`;
    default:
      return undefined;
  }
}

export function taskLine(event: TaskEvent): string | undefined {
  switch (event.type) {
    case 'task.spawned':
      return event.task.depth === 1 ? `  ▸ task ${event.task.id} ${event.task.mode === 'sync' ? 'delegated' : 'spawned'}: ${oneLine(event.task.goal, 70)}` : undefined;
    case 'task.ended':
      return event.task.depth === 1 ? `  ◂ task ${event.task.id} ${event.task.status}${event.task.error && event.task.status !== 'completed' ? `: ${oneLine(event.task.error, 100)}` : ''}` : undefined;
    default:
      return undefined;
  }
}
