import { ownerIsGone } from '../tasks/owner.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { operator } from '../tasks/task-service.js';
import type { WorkerView } from './view-types.js';

/**
 * Where the Workers page reads the workers from. One method, so that a store that keeps a worker
 * registry (workers announcing their id, host and concurrency with a heartbeat) can stand in for
 * the derivation below without the page or the routes changing.
 */
export interface WorkerDirectory {
  list(): Promise<WorkerView[]>;
}

/** What the derivation reads: the operator's view of the tasks. */
export interface TaskLister {
  list(caller: typeof operator, filter: { status?: TaskRecord['status'][]; limit?: number }): Promise<TaskRecord[]>;
}

/**
 * Workers as the task store shows them, with no registry: every owner of a running or interrupted
 * task (owner ids are `host:pid:nonce:machine`), the running tasks it holds, its last heartbeat
 * (its newest lease's expiry less the lease length) and whether it is dead (its lease expired, or
 * on this machine its pid is gone). An owner that holds nothing is not seen, and concurrency is not
 * stored, so it is left out.
 */
export class TaskOwnerDirectory implements WorkerDirectory {
  constructor(
    private readonly tasks: TaskLister,
    private readonly leaseMs = 10_000,
  ) {}

  async list(): Promise<WorkerView[]> {
    const held = await this.tasks.list(operator, { status: ['running', 'interrupted'], limit: 10_000 });
    const workers = new Map<string, { running: string[]; lease: number; last: TaskRecord }>();
    for (const task of held) {
      if (!task.owner) continue;
      const entry = workers.get(task.owner) ?? { running: [], lease: 0, last: task };
      if (task.status === 'running') entry.running.push(task.id);
      if ((task.leaseExpiresAt ?? 0) > entry.lease) {
        entry.lease = task.leaseExpiresAt ?? 0;
        entry.last = task;
      }
      workers.set(task.owner, entry);
    }
    return [...workers.entries()]
      .map(([id, entry]) => ({
        id,
        host: id.split(':')[0] ?? id,
        tasks: entry.running.sort(),
        ...(entry.lease > 0 ? { lastHeartbeat: entry.lease - this.leaseMs } : {}),
        // A task that is interrupted (not running) was reaped: its owner is gone.
        dead: entry.running.length === 0 || ownerIsGone(id, entry.lease || undefined),
      }))
      .sort((a, b) => Number(a.dead) - Number(b.dead) || a.id.localeCompare(b.id));
  }
}
