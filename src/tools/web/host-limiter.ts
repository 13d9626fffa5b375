/**
 * At most `perHost` requests to one host at a time; the others wait their turn in order. One
 * limiter is shared by every agent of a runtime (the parent and all its children), so a fan-out of
 * fifty children reading one site asks it for `perHost` pages at a time.
 */
export class HostLimiter {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(readonly perHost: number) {}

  /** Waits for a slot on `host`; the returned function frees it (call it once). Rejects when `signal` aborts while waiting. */
  async acquire(host: string, signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    if ((this.active.get(host) ?? 0) >= this.perHost) {
      await new Promise<void>((resolve, reject) => {
        const queue = this.waiting.get(host) ?? [];
        this.waiting.set(host, queue);
        const onAbort = (): void => {
          queue.splice(queue.indexOf(wake), 1);
          reject(signal.reason);
        };
        const wake = (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        queue.push(wake);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    } else {
      this.active.set(host, (this.active.get(host) ?? 0) + 1);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.get(host)?.shift();
      // The slot passes to the next waiter as it is; the count drops only when nobody waits.
      if (next) return next();
      if (this.waiting.get(host)?.length === 0) this.waiting.delete(host);
      const count = (this.active.get(host) ?? 1) - 1;
      if (count <= 0) this.active.delete(host);
      else this.active.set(host, count);
    };
  }

  /** Requests running on `host` now. */
  running(host: string): number {
    return this.active.get(host) ?? 0;
  }
}

const shared = new Map<number, HostLimiter>();

/** The process's limiter for `perHost` requests per host: every runtime and agent of the process configured alike shares it. */
export function sharedHostLimiter(perHost: number): HostLimiter {
  let limiter = shared.get(perHost);
  if (!limiter) {
    limiter = new HostLimiter(perHost);
    shared.set(perHost, limiter);
  }
  return limiter;
}
