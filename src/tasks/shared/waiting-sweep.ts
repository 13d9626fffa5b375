import { operator } from '../caller.js';
import type { TaskService } from '../task-service.js';
import type { TaskQueues } from './task-queues.js';

/**
 * A worker's slow sweep for tasks that wait without a job: a parent that died between creating a
 * task and adding its job, an add that failed while Redis was away, a task whose owner was not
 * running a job (a `run` that ran its own children and died), a hand-back whose new job was lost.
 * Each waiting task older than `graceMs` is added under its deterministic job id (`jobIdFor`), so a
 * task that has a job gets no second one while it waits. Reading also interrupts running tasks whose
 * owner is gone (the Reaper).
 */
export class WaitingSweep {
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly tasks: TaskService,
    private readonly queues: TaskQueues,
    private readonly intervalMs: number,
    private readonly graceMs = 2_000,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sweep. Returns how many tasks were (re)added. */
  async sweep(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    try {
      await this.tasks.reap(true);
      const now = Date.now();
      const waiting = await this.tasks.list(operator, { status: ['queued', 'interrupted'], limit: 10_000 });
      let added = 0;
      for (const task of waiting) {
        const since = task.status === 'interrupted' ? (task.endedAt ?? task.createdAt) : task.createdAt;
        if (now - since < this.graceMs) continue;
        await this.queues.add(task);
        added++;
      }
      return added;
    } catch {
      // Redis or the store away for now: the next sweep (every interval) tries again.
      return 0;
    } finally {
      this.sweeping = false;
    }
  }
}
