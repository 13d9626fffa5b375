import { LegateError } from '../errors.js';

/**
 * A task's lifecycle. `queued` waits for a concurrency slot; `running` has an owner executing it;
 * `input_required` is running but parked: one of its calls is outside its sandbox mode and waits
 * for a human's answer (`TaskRecord.approval`); its owner keeps its lease. `completed` means the
 * child gave a usable final answer; `failed` carries an exit reason and the error; `cancelled` was
 * stopped on request (partial output kept); `interrupted` lost its owner (process died) and can be
 * resumed from its last checkpoint. `failed` has ended, but an operator may reopen it (`tasks resume`):
 * it goes back to `interrupted` and resumes from its last checkpoint.
 */
export type TaskStatus = 'queued' | 'running' | 'input_required' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

export const taskStatuses: readonly TaskStatus[] = ['queued', 'running', 'input_required', 'completed', 'failed', 'cancelled', 'interrupted'];

/**
 * Every move a task makes, and who makes it (one line each). A move not listed here is refused by
 * every store (`illegal_transition`). `→ running` happens only through `TaskStore.claim`, except
 * `input_required → running`: the owner resuming its parked task, a transition fenced on its claim.
 */
export const transitions: ReadonlyArray<{ from: TaskStatus; to: TaskStatus; why: string }> = [
  { from: 'queued', to: 'running', why: 'claimed by a process with a free slot (TaskService.start, via the Dispatcher)' },
  { from: 'queued', to: 'cancelled', why: 'cancelled before it started (TaskService.cancel)' },
  { from: 'running', to: 'completed', why: "the child gave a final answer (the owner's fenced final transition)" },
  { from: 'running', to: 'failed', why: "the child failed, timed out, or a store write failed (the owner's fenced final transition)" },
  { from: 'running', to: 'cancelled', why: 'cancelled by the parent, the user or shutdown, from any process (TaskService.cancel)' },
  { from: 'running', to: 'interrupted', why: 'its owner is gone (Reaper, fenced on the dead owner) or handed it back on shutdown' },
  {
    from: 'running',
    to: 'input_required',
    why: "a call outside the child's sandbox mode waits for a human's answer (the owner parks it, fenced; its lease is kept)",
  },
  { from: 'input_required', to: 'running', why: 'the answer arrived, or the wait timed out into a denial (the owner, fenced)' },
  { from: 'input_required', to: 'cancelled', why: 'cancelled while waiting for an answer, from any process (TaskService.cancel)' },
  {
    from: 'input_required',
    to: 'interrupted',
    why: 'its owner is gone or handed it back while it waited; resumed, the child asks again, so it comes back waiting',
  },
  { from: 'interrupted', to: 'running', why: 'resumed from its checkpoint by a worker, `tasks resume` or an MCP server (a claim: epoch + 1)' },
  { from: 'interrupted', to: 'cancelled', why: 'cancelled while nobody ran it (TaskService.cancel)' },
  { from: 'interrupted', to: 'failed', why: 'taken over more than tasks.max_resumes times: not resumed again (exit reason max_resumes)' },
  { from: 'failed', to: 'interrupted', why: 'reopened by `tasks resume` or the dashboard (an operator), to run again from its last checkpoint' },
];

/** The states a task ends in: no run is going on, and only an operator's resume reopens a failed one. */
const ended: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);

const legal: Record<TaskStatus, readonly TaskStatus[]> = {
  queued: [],
  running: [],
  input_required: [],
  interrupted: [],
  completed: [],
  failed: [],
  cancelled: [],
};
for (const { from, to } of transitions) (legal[from] as TaskStatus[]).push(to);

export function isTerminal(status: TaskStatus): boolean {
  return ended.has(status);
}

/** A task `tasks resume` can (re)start from its last checkpoint: interrupted, orphaned queued, or failed. */
export function isResumable(status: TaskStatus): boolean {
  return status === 'interrupted' || status === 'queued' || status === 'failed';
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
