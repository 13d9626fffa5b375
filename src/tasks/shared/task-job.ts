import { errorMessage } from '../../errors.js';
import { sleep } from '../../provider/sleep.js';
import { operator } from '../caller.js';
import type { TaskRecord } from '../task-record.js';
import type { TaskService } from '../task-service.js';
import type { TaskQueues } from './task-queues.js';

/** How a job ended for legate (the job itself always completes). */
export type TaskJobOutcome =
  /** This process ran the task; `status` as the run left it. */
  | { ran: true; status: TaskRecord['status'] }
  /** Nothing to run: the task ended, was claimed by another process, or is gone. */
  | { ran: false; why: string };

export interface TaskJobDeps {
  tasks: TaskService;
  /** Whether this process runs the task now (it holds its lease). */
  holds: (taskId: string) => boolean;
  queues: TaskQueues;
  /** The lease length, ms: how long a dead owner's task can look held. */
  leaseMs: number;
  /** How often to look again while a task is held by an owner that may be dead, ms. */
  recheckMs?: number;
}

/**
 * Run the task of one BullMQ job here. A job may find its task:
 * - waiting (queued, or interrupted: handed back or its worker died): claim it and run it, resuming
 *   from its checkpoint (the service refuses one taken over more than `tasks.max_resumes` times);
 * - running under this process without running here: it lost the job's lock earlier; hand it back
 *   (fenced on that run) and claim it anew;
 * - running under another owner: the job was stalled (its worker died or lost the lock) and BullMQ
 *   gave it back. Wait until that owner's lease runs out (reading it interrupts the task then) and
 *   take it over; an owner that keeps renewing past one lease is alive and keeps the task;
 * - ended or gone: nothing to do.
 * A task this run hands back (the worker is stopping) goes on the queue again under a new job id.
 * Never throws for the task's sake: its outcome is in the store, the job just completes.
 */
export async function runTaskJob(taskId: string, deps: TaskJobDeps, signal?: AbortSignal): Promise<TaskJobOutcome> {
  const { tasks } = deps;
  const deadline = Date.now() + deps.leaseMs + 1_000;
  for (;;) {
    const task = await tasks.get(operator, taskId).catch(() => undefined); // gone or unreadable: this job has nothing to run (said below)
    if (!task) return { ran: false, why: `task "${taskId}" is gone` };
    if (task.status === 'queued' || task.status === 'interrupted') break;
    if (task.status !== 'running') return { ran: false, why: `task "${taskId}" is ${task.status}` };
    if (task.owner === tasks.owner) {
      if (deps.holds(taskId)) return { ran: false, why: `task "${taskId}" already runs here` };
      // This process lost it (its job lock) and wrote nothing since: hand it back, fenced, and take it again.
      const handedBack = await tasks.handBackLost(task).then(
        () => true,
        () => false,
      );
      if (handedBack) continue;
    }
    if (Date.now() > deadline || signal?.aborted) return { ran: false, why: `task "${taskId}" is held by ${task.owner}, which is alive` };
    // Reading it again interrupts it once its owner's lease has run out (the Reaper).
    await sleep(deps.recheckMs ?? 250, signal).catch(() => {});
  }
  const after = await tasks.runHere(taskId);
  if (!after) return { ran: false, why: `task "${taskId}" was claimed by another process` };
  // Handed back (this worker is stopping): another worker resumes it.
  if (after.status === 'interrupted') await deps.queues.add(after).catch(() => {});
  return { ran: true, status: after.status };
}

/** The outcome as one line (a worker's log). */
export function describeOutcome(taskId: string, outcome: TaskJobOutcome | Error): string {
  if (outcome instanceof Error) return `task ${taskId}: job failed: ${errorMessage(outcome)}`;
  return outcome.ran ? `task ${taskId} ${outcome.status}` : `task ${taskId} skipped: ${outcome.why}`;
}
