import type { TaskRecord } from './task-record.js';

/**
 * A dispatched task's start, as the service hands it to the dispatcher: `claimed` settles once
 * the claim did (the running record; undefined when the task was no longer waiting; rejected when
 * the store failed), `finished` when the run is over (never rejects).
 */
export interface DispatchedStart {
  claimed: Promise<TaskRecord | undefined>;
  finished: Promise<void>;
}

/**
 * Where tasks run. The service submits a task it wants run; the dispatcher calls `run` when there is
 * capacity for it. Chosen once when the service is built: `LocalDispatcher` (a FIFO queue in this
 * process) by default; a shared-queue dispatcher (BullMQ) enqueues the id and its workers run it.
 */
export interface Dispatcher {
  /**
   * Start the task now if capacity allows: `start` is then called before `submit` returns, and
   * `submit` returns its `claimed` promise (the caller learns whether the claim held, or why it
   * failed). Otherwise the task waits in order, or goes to a queue another process takes it from,
   * and `submit` returns undefined; a start made later reports a failed claim to `onLateFailure`.
   * A run takes capacity until its `finished` settles.
   */
  submit(taskId: string, start: () => DispatchedStart): Promise<TaskRecord | undefined> | undefined;
  /** Drop a task that has not started yet. Returns true if it was waiting. */
  withdraw(taskId: string): boolean;
  /** Whether the task waits here for capacity. */
  waiting(taskId: string): boolean;
  /** Tasks started and not yet finished. */
  readonly active: number;
}

/**
 * A FIFO concurrency limiter: at most `limit` jobs run at once; the rest wait in order. Never
 * rejects work for being over the limit.
 */
export class LocalDispatcher implements Dispatcher {
  private running = 0;
  private readonly queue: { id: string; start: () => DispatchedStart }[] = [];

  constructor(
    private readonly limit: number,
    /** A claim made after the task waited for capacity failed: nobody awaits it, so it goes here. */
    private readonly onLateFailure: (taskId: string, error: unknown) => void = () => {},
  ) {}

  submit(taskId: string, start: () => DispatchedStart): Promise<TaskRecord | undefined> | undefined {
    if (this.running < this.limit) return this.launch(start);
    this.queue.push({ id: taskId, start });
    return undefined;
  }

  withdraw(taskId: string): boolean {
    const index = this.queue.findIndex((job) => job.id === taskId);
    if (index < 0) return false;
    this.queue.splice(index, 1);
    return true;
  }

  waiting(taskId: string): boolean {
    return this.queue.some((job) => job.id === taskId);
  }

  get active(): number {
    return this.running;
  }

  private launch(start: () => DispatchedStart): Promise<TaskRecord | undefined> {
    this.running++;
    const { claimed, finished } = start();
    // Capacity is held until the run is over; `finished` settles after `claimed` and never rejects.
    void Promise.allSettled([claimed, finished]).then(() => {
      this.running--;
      const next = this.queue.shift();
      if (next) this.launch(next.start).catch((error: unknown) => this.onLateFailure(next.id, error));
    });
    return claimed;
  }
}
