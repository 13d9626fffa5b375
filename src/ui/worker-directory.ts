import { ownerIsGone } from '../tasks/owner.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { operator } from '../tasks/task-service.js';
import { type WorkerRegistry, workerDeadAfterMs } from '../tasks/worker-registry.js';
import type { WorkerView } from './view-types.js';

/**
 * Where the Workers page reads the workers from. One method, so that another source (a BullMQ
 * queue's worker list, say) can stand in without the page or the routes changing.
 */
export interface WorkerDirectory {
  list(): Promise<WorkerView[]>;
}

/** What the directory reads: the operator's view of the tasks. */
export interface TaskLister {
  list(caller: typeof operator, filter: { status?: TaskRecord['status'][]; limit?: number }): Promise<TaskRecord[]>;
}

/**
 * Workers from the worker registry (shared mode: `legate worker` announces its id, host and
 * concurrency every 2 s), joined with the task store: the running tasks each owner holds. Every
 * other owner of a running or interrupted task (a chat or `run` process, or a worker from before
 * the registry) is listed too, its heartbeat read from its newest lease (expiry less the lease
 * length). Dead: silent past `workerDeadAfterMs`, its lease expired, or (on this machine) its pid gone.
 */
export class TaskOwnerDirectory implements WorkerDirectory {
  constructor(
    private readonly tasks: TaskLister,
    private readonly registry?: WorkerRegistry,
    private readonly leaseMs = 10_000,
  ) {}

  async list(): Promise<WorkerView[]> {
    const [held, registered] = await Promise.all([
      this.tasks.list(operator, { status: ['running', 'interrupted'], limit: 10_000 }),
      this.registry ? this.registry.list() : Promise.resolve([]),
    ]);
    const owners = new Map<string, { running: string[]; lease: number }>();
    for (const task of held) {
      if (!task.owner) continue;
      const entry = owners.get(task.owner) ?? { running: [], lease: 0 };
      if (task.status === 'running') entry.running.push(task.id);
      entry.lease = Math.max(entry.lease, task.leaseExpiresAt ?? 0);
      owners.set(task.owner, entry);
    }
    const now = Date.now();
    const views: WorkerView[] = registered.map((worker) => {
      const running = owners.get(worker.id)?.running ?? [];
      owners.delete(worker.id);
      return {
        id: worker.id,
        host: worker.host,
        concurrency: worker.concurrency,
        tasks: running.sort(),
        lastHeartbeat: worker.heartbeatAt,
        dead: now - worker.heartbeatAt > workerDeadAfterMs || ownerIsGone(worker.id, undefined),
      };
    });
    for (const [id, entry] of owners) {
      views.push({
        id,
        host: id.split(':')[0] ?? id,
        tasks: entry.running.sort(),
        ...(entry.lease > 0 ? { lastHeartbeat: entry.lease - this.leaseMs } : {}),
        // Holding only interrupted tasks: the reaper found its owner gone.
        dead: entry.running.length === 0 || ownerIsGone(id, entry.lease || undefined),
      });
    }
    return views.sort((a, b) => Number(a.dead) - Number(b.dead) || a.id.localeCompare(b.id));
  }
}
