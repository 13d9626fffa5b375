import { LegateError } from '../../errors.js';
import type { Fence, TaskRecord } from '../task-record.js';

/** True when `task` is running under `fence` (or no fence was given). */
export function fenceHolds(task: Pick<TaskRecord, 'status' | 'owner' | 'epoch'>, fence: Fence | undefined): boolean {
  return fence === undefined || (task.status === 'running' && task.owner === fence.owner && (task.epoch ?? 0) === fence.epoch);
}

/** The `lease_lost` error for a write refused under `fence`, naming the task and who holds it now. */
export function leaseLost(id: string, fence: Fence, task: Pick<TaskRecord, 'status' | 'owner' | 'epoch'>): LegateError {
  const now = task.status === 'running' ? `running under ${task.owner ?? 'no owner'} epoch ${task.epoch ?? 0}` : task.status;
  return new LegateError('lease_lost', `task "${id}" is no longer run by ${fence.owner} epoch ${fence.epoch} (it is ${now}); write refused`, {
    taskId: id,
    owner: fence.owner,
    epoch: fence.epoch,
    status: task.status,
  });
}
