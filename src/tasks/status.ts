import { LegateError } from '../errors.js';

/**
 * A task's lifecycle. `queued` waits for a concurrency slot; `running` has an owner executing it;
 * `completed` means the child gave a usable final answer; `failed` carries an exit reason and the
 * error; `cancelled` was stopped on request (partial output kept); `interrupted` lost its owner
 * (process died) and can be resumed from its last checkpoint.
 */
export type TaskStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

export const taskStatuses: readonly TaskStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted'];

const legal: Record<TaskStatus, readonly TaskStatus[]> = {
  queued: ['running', 'cancelled'],
  running: ['completed', 'failed', 'cancelled', 'interrupted'],
  interrupted: ['running', 'cancelled', 'failed'],
  completed: [],
  failed: [],
  cancelled: [],
};

export function isTerminal(status: TaskStatus): boolean {
  return legal[status].length === 0;
}

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return legal[from].includes(to);
}

/** Throws `illegal_transition` naming both states when `from → to` is not a legal move. */
export function assertTransition(taskId: string, from: TaskStatus, to: TaskStatus): void {
  if (!canTransition(from, to)) {
    throw new LegateError('illegal_transition', `task "${taskId}" cannot go from ${from} to ${to}`, { taskId, from, to });
  }
}

export function isTaskStatus(value: unknown): value is TaskStatus {
  return typeof value === 'string' && (taskStatuses as readonly string[]).includes(value);
}
