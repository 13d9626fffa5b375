import { LegateError } from '../errors.js';
import { TaskRun, type TaskRunDeps } from './task-run.js';

/** What claiming a task needs from the `TaskService` that owns it. */
export interface TaskClaimDeps extends TaskRunDeps {
  maxResumes: number;
}

/**
 * Claim a waiting task for this process and return its run, not yet started; undefined when it
 * is no longer waiting (cancelled while queued, claimed by another process, gone) or was failed
 * for being resumed too often. Any other failure (`store_locked`, `store_unavailable`…) rejects:
 * the task was not claimed and the caller must hear of it.
 */
export async function claimTask(deps: TaskClaimDeps, taskId: string, from: 'queued' | 'interrupted'): Promise<TaskRun | undefined> {
  try {
    if (from === 'interrupted' && (await failIfResumedTooOften(deps, taskId))) return undefined;
    const task = await deps.store.claim(taskId, from, deps.leases.owner, Date.now() + deps.leases.leaseMs, { startedAt: Date.now(), endedAt: undefined });
    return new TaskRun(deps, task, from);
  } catch (error) {
    if (error instanceof LegateError && (error.code === 'illegal_transition' || error.code === 'task_not_found')) return undefined;
    throw error;
  }
}

/** An interrupted task taken over more than `maxResumes` times is failed rather than resumed. Returns true if it was. */
async function failIfResumedTooOften(deps: TaskClaimDeps, taskId: string): Promise<boolean> {
  const task = await deps.store.get(taskId);
  const takeovers = task?.takeovers ?? 0;
  if (!task || takeovers <= deps.maxResumes) return false;
  const error =
    `resume_limit: task "${taskId}" lost its process ${takeovers} times (tasks.max_resumes is ${deps.maxResumes})` +
    `; it is not resumed again, as it may be what stops its process`;
  const failed = await deps.store.transition(taskId, 'interrupted', 'failed', { endedAt: Date.now(), exitReason: 'max_resumes', error });
  await deps.store.missSteers(taskId);
  deps.ended(failed);
  return true;
}
