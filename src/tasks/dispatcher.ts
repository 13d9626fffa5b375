/**
 * Where tasks run. The service submits a task it wants run; the dispatcher calls `run` when there is
 * capacity for it. Chosen once when the service is built: `LocalDispatcher` (a FIFO queue in this
 * process) by default; a shared-queue dispatcher (BullMQ) enqueues the id and its workers run it.
 */
export interface Dispatcher {
  /** Run `run` for the task now if capacity allows (returns true), else keep it waiting in order (returns false). */
  submit(taskId: string, run: () => Promise<void>): boolean;
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
  private readonly queue: { id: string; run: () => Promise<void> }[] = [];

  constructor(private readonly limit: number) {}

  submit(taskId: string, run: () => Promise<void>): boolean {
    if (this.running < this.limit) {
      this.launch(run);
      return true;
    }
    this.queue.push({ id: taskId, run });
    return false;
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

  private launch(run: () => Promise<void>): void {
    this.running++;
    void run()
      .catch(() => {})
      .finally(() => {
        this.running--;
        const next = this.queue.shift();
        if (next) this.launch(next.run);
      });
  }
}
