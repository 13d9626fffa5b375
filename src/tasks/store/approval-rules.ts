import { LegateError } from '../../errors.js';
import type { TaskStatus } from '../status.js';
import type { Fence, PendingApproval, StoredApprovalAnswer, TaskRecord } from '../task-record.js';
import type { TransitionPatch } from './task-store.js';

/**
 * The rules every store applies to the approval of an `input_required` task, in one place for the
 * memory and SQLite stores (the Redis scripts spell the same rules in Lua).
 */

/**
 * Throws unless `from → to` may go through `transition`: `→ running` only as the owner's fenced
 * `input_required → running`; `→ input_required` only with the pending request in `patch.approval`.
 */
export function assertTransitionArguments(id: string, from: TaskStatus | readonly TaskStatus[], to: TaskStatus, patch: TransitionPatch, fence?: Fence): void {
  const expected: readonly TaskStatus[] = typeof from === 'string' ? [from] : from;
  if (to === 'running' && !(fence && expected.length > 0 && expected.every((status) => status === 'input_required'))) {
    throw new LegateError('illegal_transition', `task "${id}" can only become running by a claim, or by its owner resuming it from input_required`, {
      taskId: id,
      to,
    });
  }
  if (to === 'input_required' && !patch.approval) {
    throw new LegateError('invalid_arguments', `task "${id}" cannot become input_required without the pending approval request (patch.approval)`, {
      taskId: id,
    });
  }
}

/** The patch a transition applies: `approval` only when the task becomes `input_required`, cleared on every other move. */
export function withApprovalRule(to: TaskStatus, patch: TransitionPatch): TransitionPatch {
  return to === 'input_required' ? patch : { ...patch, approval: undefined };
}

/** `not_waiting` naming the task and its status (and, when it waits on another request, that one). */
export function notWaiting(id: string, status: TaskStatus, detail?: string): LegateError {
  return new LegateError(
    'not_waiting',
    `task "${id}" is ${status}, not waiting for an approval${detail ? ` (${detail})` : ''}; only an input_required task can be approved or denied`,
    { taskId: id, status },
  );
}

/**
 * The approval with `answer` stored, or the approval as it is when it was answered already (the
 * first answer stands). Throws `not_waiting` when `task` does not wait on `requestId`.
 */
export function answered(task: TaskRecord, requestId: string, answer: StoredApprovalAnswer): PendingApproval {
  if (task.status !== 'input_required' || !task.approval) throw notWaiting(task.id, task.status);
  if (task.approval.id !== requestId) throw notWaiting(task.id, task.status, `it waits on request ${task.approval.id}, not ${requestId}`);
  if (task.approval.answer) return task.approval;
  return { ...task.approval, answer: structuredClone(answer) };
}
