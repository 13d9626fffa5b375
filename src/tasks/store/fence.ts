import { LegateError } from '../../errors.js';
import type { TaskStatus } from '../status.js';
import type { Fence, TaskRecord } from '../task-record.js';

/** The statuses in which a task is held by its owner: running, or parked waiting for an approval (its lease kept). */
export const heldStatuses: readonly TaskStatus[] = ['running', 'input_required'];

/** True when `task` is held (running or input_required) under `fence` (or no fence was given). */
export function fenceHolds(task: Pick<TaskRecord, 'status' | 'owner' | 'epoch'>, fence: Fence | undefined): boolean {
  return fence === undefined || (heldStatuses.includes(task.status) && task.owner === fence.owner && (task.epoch ?? 0) === fence.epoch);
}

/** The `lease_lost` error for a write refused under `fence`, naming the task and who holds it now. */
export function leaseLost(id: string, fence: Fence, task: Pick<TaskRecord, 'status' | 'owner' | 'epoch'>): LegateError {
  const now = heldStatuses.includes(task.status) ? `running under ${task.owner ?? 'no owner'} epoch ${task.epoch ?? 0}` : task.status;
  return new LegateError('lease_lost', `task "${id}" is no longer run by ${fence.owner} epoch ${fence.epoch} (it is ${now}); write refused`, {
    taskId: id,
    owner: fence.owner,
    epoch: fence.epoch,
    status: task.status,
  });
}
