import { LegateError } from '../../errors.js';
import type { TaskEnds } from '../task-ends.js';
import type { EndChannel } from './end-channel.js';

/**
 * Waiting for tasks in shared mode: told by `EndChannel` messages when a task ends on any machine,
 * with a slow store read (`fallbackMs`) for a message lost to a reconnect. An `interrupted` task is
 * not settled here: a worker is about to take it over, so a waiter keeps waiting.
 */
export class SharedTaskEnds implements TaskEnds {
  readonly resumesInterrupted = true;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly channel: EndChannel,
    private readonly fallbackMs = 5_000,
  ) {}

  ended(taskId: string): void {
    for (const done of [...(this.waiters.get(taskId) ?? [])]) done();
    this.waiters.delete(taskId);
    this.channel.publish(taskId);
  }

  watch(listener: (taskId: string) => void): () => void {
    return this.channel.listenAll(listener);
  }

  wait(taskId: string, options: { check: () => Promise<boolean>; local: () => boolean; timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    const { signal } = options;
    return new Promise<void>((resolve) => {
      const waiters = this.waiters.get(taskId) ?? new Set<() => void>();
      this.waiters.set(taskId, waiters);
      let finished = false;
      const done = (): void => {
        if (finished) return;
        finished = true;
        waiters.delete(done);
        if (waiters.size === 0 && this.waiters.get(taskId) === waiters) this.waiters.delete(taskId);
        clearTimeout(timer);
        clearInterval(fallback);
        stopListening();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const look = (): void => {
        if (finished) return;
        void options.check().then(
          (settled) => settled && done(),
          // Unreadable for now (Redis down): the next look tries again. Lost for good (a Redis restarted
          // empty): nothing to wait for; the caller's read says so.
          (error: unknown) => error instanceof LegateError && error.code === 'store_reset' && done(),
        );
      };
      waiters.add(done);
      const timer = setTimeout(done, Math.min(options.timeoutMs, 2 ** 31 - 1));
      const stopListening = this.channel.listen(taskId, look);
      const fallback = setInterval(look, this.fallbackMs);
      fallback.unref?.();
      if (signal?.aborted) done();
      else signal?.addEventListener('abort', done, { once: true });
      // It may have ended between the caller's read and listening.
      look();
    });
  }
}
