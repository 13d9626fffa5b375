import type { Dispatcher } from '../dispatcher.js';
import type { TaskStore } from '../store/task-store.js';
import type { TaskQueues } from './task-queues.js';

/**
 * Dispatch in shared mode: a submitted task goes on its depth's BullMQ queue and a worker (on
 * any machine, `legate worker`) runs it; nothing runs in the submitting process. A job that could
 * not be added (Redis away) is added later by a worker's sweep of waiting tasks (`WaitingSweep`).
 */
export class QueueDispatcher implements Dispatcher {
  constructor(
    private readonly store: TaskStore,
    private readonly queues: TaskQueues,
    /** Tasks this process runs for its queue workers (0 in a process that only dispatches). */
    private readonly running: () => number = () => 0,
    private readonly onError: (taskId: string, error: unknown) => void = () => {},
  ) {}

  submit(taskId: string): undefined {
    void this.enqueue(taskId).catch((error: unknown) => this.onError(taskId, error));
    return undefined;
  }

  withdraw(taskId: string): boolean {
    void this.store
      .get(taskId)
      .then((task) => task && this.queues.remove(task))
      .catch((error: unknown) => this.onError(taskId, error));
    return false;
  }

  waiting(): boolean {
    return false;
  }

  get active(): number {
    return this.running();
  }

  private async enqueue(taskId: string): Promise<void> {
    const task = await this.store.get(taskId);
    if (!task || (task.status !== 'queued' && task.status !== 'interrupted')) return;
    await this.queues.add(task);
  }
}
