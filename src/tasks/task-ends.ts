/**
 * How waiters learn that a task ended. `ended(taskId)` is said by this process when a task it runs
 * (or cancels) ends; `wait` resolves on that, or when `check` (a store read) finds the task settled
 * — the way to hear about tasks that end in another process. Chosen once when the service is built:
 * `LocalTaskEnds` (in-process + polling) by default; a shared mode can listen to store events.
 */
export interface TaskEnds {
  /**
   * True where workers take interrupted tasks over (shared mode): an `interrupted` task is then
   * not settled, and waiting goes on until it really ends.
   */
  readonly resumesInterrupted?: boolean;
  ended(taskId: string): void;
  /**
   * Hear every task end that any process tells of (shared mode: Redis Pub/Sub), with the task's id.
   * Absent where other processes tell nothing (their tasks' ends are found by reading the store).
   */
  watch?(listener: (taskId: string) => void): () => void;
  /**
   * Resolves when the task ends, `check` finds it settled, `timeoutMs` passes or `signal` aborts
   * (whichever first). `local()` says whether this process runs the task (then no polling is needed).
   */
  wait(taskId: string, options: { check: () => Promise<boolean>; local: () => boolean; timeoutMs: number; signal?: AbortSignal }): Promise<void>;
}

/** In-process notification for the tasks this process runs, polling the store every `pollIntervalMs` for the rest. */
export class LocalTaskEnds implements TaskEnds {
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly pollIntervalMs = 250) {}

  ended(taskId: string): void {
    for (const done of [...(this.waiters.get(taskId) ?? [])]) done();
    this.waiters.delete(taskId);
  }

  wait(taskId: string, options: { check: () => Promise<boolean>; local: () => boolean; timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    const { signal } = options;
    return new Promise<void>((resolve) => {
      const waiters = this.waiters.get(taskId) ?? new Set<() => void>();
      this.waiters.set(taskId, waiters);
      const done = (): void => {
        waiters.delete(done);
        if (waiters.size === 0 && this.waiters.get(taskId) === waiters) this.waiters.delete(taskId);
        clearTimeout(timer);
        clearInterval(poll);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      waiters.add(done);
      const timer = setTimeout(done, Math.min(options.timeoutMs, 2 ** 31 - 1));
      const poll = setInterval(() => {
        if (options.local()) return;
        void options.check().then(
          (settled) => settled && done(),
          () => {},
        );
      }, this.pollIntervalMs);
      poll.unref?.();
      if (signal?.aborted) done();
      else signal?.addEventListener('abort', done, { once: true });
    });
  }
}
