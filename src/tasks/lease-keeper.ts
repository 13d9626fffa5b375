import { errorMessage, LegateError } from '../errors.js';
import type { TaskStore } from './store/task-store.js';
import type { Fence } from './task-record.js';

/**
 * How this process holds the leases of the tasks it runs. `hold` starts renewing a claimed task's
 * lease; `lost` is called once, when the lease can no longer be counted on: the task was cancelled or
 * taken over elsewhere, or renewing failed until the lease ran out. The runner must then abort the
 * child and write nothing more for it. Chosen once when the service is built: `StoreLeaseKeeper`
 * (store heartbeats) by default; a shared mode can hold leases as job locks instead.
 */
export interface LeaseKeeper {
  /** This process's owner id, written on every task it claims. */
  readonly owner: string;
  /** How long a claim's first lease lasts, ms. */
  readonly leaseMs: number;
  hold(taskId: string, fence: Fence, leaseExpiresAt: number, lost: (reason: LegateError) => void): void;
  /** Stop renewing (the run is over). */
  release(taskId: string): void;
  stop(): void;
}

interface Held {
  fence: Fence;
  /** The lease as last written: past it, another process may take the task over. */
  expiresAt: number;
  lost: (reason: LegateError) => void;
}

/** How often leases of `leaseMs` are renewed: every 500 ms, or every quarter lease when that is shorter. */
export function heartbeatMsFor(leaseMs: number): number {
  return Math.min(500, Math.floor(leaseMs / 4));
}

/**
 * Leases as fields of the task record, renewed for all held tasks by one `store.heartbeat` call
 * every `heartbeatMs`. A task missing from the reply (or under another epoch) is lost at once; when
 * the call fails, tasks are lost just before their lease runs out (a renewal that did not land
 * cannot be relied on), not kept as if renewed.
 */
export class StoreLeaseKeeper implements LeaseKeeper {
  private readonly held = new Map<string, Held>();
  private timer: NodeJS.Timeout | undefined;
  private beating = false;

  constructor(
    private readonly store: TaskStore,
    readonly owner: string,
    readonly leaseMs = 10_000,
    private readonly heartbeatMs = 500,
  ) {}

  hold(taskId: string, fence: Fence, leaseExpiresAt: number, lost: (reason: LegateError) => void): void {
    this.held.set(taskId, { fence, expiresAt: leaseExpiresAt, lost });
    if (!this.timer) {
      this.timer = setInterval(() => void this.renew(), this.heartbeatMs);
      this.timer.unref();
    }
  }

  release(taskId: string): void {
    this.held.delete(taskId);
    if (this.held.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One heartbeat: renew every lease of this owner, and give up the tasks it no longer holds. */
  private async renew(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    const expiresAt = Date.now() + this.leaseMs;
    // Only the tasks held when the beat began are judged by its reply: a claim that landed while
    // it was under way (a store may renew in several commands) may be missing from it.
    const judged = new Set(this.held.values());
    try {
      const owned = new Map((await this.store.heartbeat(this.owner, expiresAt)).map((entry) => [entry.id, entry.epoch]));
      for (const [taskId, held] of this.held) {
        if (!judged.has(held)) continue;
        if (owned.get(taskId) === held.fence.epoch) held.expiresAt = expiresAt;
        else
          this.lose(
            taskId,
            held,
            new LegateError(
              'lease_lost',
              `task "${taskId}" is no longer held by ${this.owner} epoch ${held.fence.epoch}: cancelled or taken over by another process`,
              { taskId },
            ),
          );
      }
    } catch (error) {
      // Give a task up one heartbeat before its lease runs out: past that, another process may take it over.
      const now = Date.now();
      for (const [taskId, held] of this.held) {
        if (now + this.heartbeatMs < held.expiresAt) continue;
        this.lose(
          taskId,
          held,
          new LegateError('lease_lost', `task "${taskId}": its lease could not be renewed before it ran out (${errorMessage(error)})`, { taskId }),
        );
      }
    } finally {
      this.beating = false;
    }
  }

  private lose(taskId: string, held: Held, reason: LegateError): void {
    this.held.delete(taskId);
    held.lost(reason);
  }
}
