/**
 * A FIFO concurrency limiter: at most `limit` jobs run at once; the rest wait in order. Never
 * rejects work for being over the limit.
 */
export class Scheduler {
  private running = 0;
  private readonly waiting: { id: string; start: () => Promise<void> }[] = [];

  constructor(private readonly limit: number) {}

  /** Starts `start` now if a slot is free (returns true), else queues it (returns false). */
  submit(id: string, start: () => Promise<void>): boolean {
    if (this.running < this.limit) {
      this.launch(start);
      return true;
    }
    this.waiting.push({ id, start });
    return false;
  }

  /** Drop a job that has not started yet. Returns true if it was waiting. */
  remove(id: string): boolean {
    const index = this.waiting.findIndex((job) => job.id === id);
    if (index < 0) return false;
    this.waiting.splice(index, 1);
    return true;
  }

  has(id: string): boolean {
    return this.waiting.some((job) => job.id === id);
  }

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  private launch(start: () => Promise<void>): void {
    this.running++;
    void start()
      .catch(() => {})
      .finally(() => {
        this.running--;
        const next = this.waiting.shift();
        if (next) this.launch(next.start);
      });
  }
}
