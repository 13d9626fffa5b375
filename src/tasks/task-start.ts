import { repairInterrupted } from '../agent/resume.js';
import { errorMessage, LegateError } from '../errors.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { isTerminal } from './status.js';
import type { Checkpoint, TaskStore } from './store/task-store.js';
import type { ApprovalSettings } from './task-approvals.js';
import type { TaskEvent } from './task-events.js';
import { executeTask, type LiveTask, stopLive, type TaskRunner } from './task-execution.js';
import type { TaskRecord } from './task-record.js';

/** What starting a task needs from the `TaskService` that owns it. */
export interface TaskStartDeps {
  store: TaskStore;
  runner: TaskRunner;
  leases: LeaseKeeper;
  /** The tasks this process runs, by id: a started task is in it until its run is over. */
  live: Map<string, LiveTask>;
  /** Per-task wall-clock limit, ms; 0 = none. */
  timeoutMs: number;
  maxResumes: number;
  /** `agent.approval: on-request`; undefined = `never`. */
  approvals: ApprovalSettings | undefined;
  announce(event: TaskEvent): void;
  /** Tell listeners and waiters that the task ended. */
  ended(task: TaskRecord): void;
}

/**
 * Claim the task, load its checkpoint when resuming, and run it under the claim's fence: resolves
 * with the running record (undefined when it could not be claimed) and a promise of its end.
 */
export async function startTask(
  deps: TaskStartDeps,
  taskId: string,
  from: 'queued' | 'interrupted',
): Promise<{ record: TaskRecord | undefined; finished: Promise<void> }> {
  const none = { record: undefined, finished: Promise.resolve() };
  let task: TaskRecord;
  try {
    if (from === 'interrupted' && (await failIfResumedTooOften(deps, taskId))) return none;
    task = await deps.store.claim(taskId, from, deps.leases.owner, Date.now() + deps.leases.leaseMs, { startedAt: Date.now(), endedAt: undefined });
  } catch {
    // Cancelled while queued, or claimed by another process.
    return none;
  }
  const fence = { owner: deps.leases.owner, epoch: task.epoch ?? 0 };
  const controller = new AbortController();
  const live: LiveTask = { controller, fence, writes: Promise.resolve(), handBack: false, finished: Promise.resolve() };
  deps.live.set(taskId, live);
  deps.leases.hold(taskId, fence, task.leaseExpiresAt ?? 0, (reason) => stopLive(live, reason));
  deps.announce({ type: 'task.started', task });
  live.finished = (async () => {
    let resume: { messages: Checkpoint['messages']; steps: number } | undefined;
    if (from === 'interrupted') {
      try {
        const checkpoint = await deps.store.loadCheckpoint(taskId);
        resume = { messages: repairInterrupted(checkpoint.messages), steps: checkpoint.steps };
      } catch (error) {
        stopLive(
          live,
          error instanceof LegateError
            ? error
            : new LegateError('store_corrupt', `task "${taskId}": its checkpoint could not be read: ${errorMessage(error)}`, { taskId }),
        );
      }
    }
    const signal = deps.timeoutMs > 0 ? AbortSignal.any([controller.signal, AbortSignal.timeout(deps.timeoutMs)]) : controller.signal;
    const end = live.failure
      ? { status: 'failed' as const, patch: { endedAt: Date.now(), exitReason: 'error' as const, currentTool: '', error: live.failure.toString() } }
      : await executeTask(task, live, {
          store: deps.store,
          runner: deps.runner,
          signal,
          announce: deps.announce,
          ...(resume ? { resume } : {}),
          ...(deps.approvals ? { approvals: deps.approvals } : {}),
        });
    deps.live.delete(taskId);
    deps.leases.release(taskId);
    if ('lost' in end) {
      // Not ours any more: write nothing; if it ended elsewhere (a cancel), tell the waiters here.
      const now = await deps.store.get(taskId).catch(() => undefined);
      if (now && isTerminal(now.status) && !live.endAnnounced) deps.ended(now);
      return;
    }
    try {
      // A hand-back while waiting for an approval interrupts the task as it is (resumed, it asks again).
      const from = end.status === 'interrupted' ? (['running', 'input_required'] as const) : 'running';
      const final = await deps.store.transition(taskId, from, end.status, end.patch, fence);
      if (isTerminal(final.status)) {
        // A steer added after the child's last pull but before this transition would stay queued forever.
        await deps.store.missSteers(taskId);
        deps.ended(final);
      }
    } catch (error) {
      // Already cancelled (or taken over): the first status stands. A store that did not answer is kept for `shutdown` to report.
      if (!(error instanceof LegateError)) live.failure ??= new LegateError('store_write_failed', errorMessage(error), { taskId });
      else if (error.code === 'store_unavailable') live.failure ??= error;
    }
  })();
  return { record: task, finished: live.finished };
}

/** An interrupted task taken over more than `maxResumes` times is failed rather than resumed. Returns true if it was. */
async function failIfResumedTooOften(deps: TaskStartDeps, taskId: string): Promise<boolean> {
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
