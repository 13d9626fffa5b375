import { LegateError } from '../errors.js';
import { ownerIsGone } from './owner.js';
import type { TaskStore } from './store/task-store.js';
import type { TaskRecord } from './task-record.js';

/**
 * Finds running (or input_required) tasks whose owner is gone (lease expired, or pid dead on this machine) and moves
 * them to `interrupted`, conditionally on the owner and epoch it judged: a task claimed again in
 * the meantime is left alone.
 */
export class Reaper {
  private reapedAt = 0;

  constructor(
    private readonly store: TaskStore,
    /** This process's owner id: its own tasks are never reaped here. */
    private readonly self: string,
    /** The least time between two sweeps, unless forced. */
    private readonly intervalMs: number,
  ) {}

  /** Sweep every running task; at most once per interval unless `force`d. Returns how many were interrupted. */
  async reap(force = false): Promise<number> {
    const now = Date.now();
    if (!force && now - this.reapedAt < this.intervalMs) return 0;
    this.reapedAt = now;
    let reaped = 0;
    for (const task of await this.store.list({ status: ['running', 'input_required'], limit: 100_000 })) {
      if ((await this.refresh(task)).status === 'interrupted') reaped++;
    }
    return reaped;
  }

  /** The task as it should be seen: interrupted if it is held (running, or waiting for an approval) by an owner that is gone. */
  async refresh(task: TaskRecord): Promise<TaskRecord> {
    const held = task.status === 'running' || task.status === 'input_required';
    if (!held || task.owner === this.self || !ownerIsGone(task.owner, task.leaseExpiresAt)) return task;
    const fence = task.owner !== undefined ? { owner: task.owner, epoch: task.epoch ?? 0 } : undefined;
    try {
      return await this.store.transition(
        task.id,
        task.status,
        'interrupted',
        { owner: undefined, leaseExpiresAt: undefined, currentTool: '', endedAt: Date.now(), takeovers: (task.takeovers ?? 0) + 1 },
        fence,
      );
    } catch (error) {
      // Another process moved it first (a resume, a cancel): report it as it is now. A store failure is the caller's.
      if (!(error instanceof LegateError && (error.code === 'illegal_transition' || error.code === 'lease_lost' || error.code === 'task_not_found')))
        throw error;
      return (await this.store.get(task.id)) ?? task;
    }
  }
}
