import { LegateError } from '../../errors.js';
import type { LeaseKeeper } from '../lease-keeper.js';
import type { TaskStore } from '../store/task-store.js';
import type { Fence } from '../task-record.js';
import type { EndChannel } from './end-channel.js';

interface Held {
  fence: Fence;
  lost: (reason: LegateError) => void;
  stopListening: () => void;
}

/**
 * Leases in shared mode. The store lease (`inner`, heartbeats on the task record) stays what every
 * reader judges a task's owner by; on top of it a task is lost at once when
 * - a process says it ended (`EndChannel`: a cancel from any machine) and the store confirms it is
 *   no longer running under this run's fence, or
 * - the BullMQ worker running its job could not renew the job's lock (`lockLost`): BullMQ does
 *   not stop a processor whose lock is gone, and another worker may already be running the job.
 * Losing a task aborts its child; its writes are refused by the store's fence in any case.
 */
export class SharedLeaseKeeper implements LeaseKeeper {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly inner: LeaseKeeper,
    private readonly store: TaskStore,
    private readonly channel: EndChannel,
  ) {}

  get owner(): string {
    return this.inner.owner;
  }

  get leaseMs(): number {
    return this.inner.leaseMs;
  }

  hold(taskId: string, fence: Fence, leaseExpiresAt: number, lost: (reason: LegateError) => void): void {
    this.held.get(taskId)?.stopListening();
    const stopListening = this.channel.listen(taskId, () => void this.verify(taskId));
    this.held.set(taskId, { fence, lost, stopListening });
    this.inner.hold(taskId, fence, leaseExpiresAt, (reason) => this.lose(taskId, reason));
  }

  release(taskId: string): void {
    this.held.get(taskId)?.stopListening();
    this.held.delete(taskId);
    this.inner.release(taskId);
  }

  stop(): void {
    for (const held of this.held.values()) held.stopListening();
    this.inner.stop();
  }

  /** The BullMQ worker could not renew the lock of the job running `taskId` (`jobId`). */
  lockLost(taskId: string, jobId: string): void {
    if (!this.held.has(taskId)) return;
    this.lose(
      taskId,
      new LegateError('lease_lost', `task "${taskId}": worker ${this.owner} lost the lock of its job ${jobId}; another worker may take it over`, {
        taskId,
      }),
    );
  }

  /** Whether this process holds the task now. */
  holds(taskId: string): boolean {
    return this.held.has(taskId);
  }

  /** A process said the task ended: stop it here if the store agrees it is no longer ours. */
  private async verify(taskId: string): Promise<void> {
    const held = this.held.get(taskId);
    if (!held) return;
    const task = await this.store.get(taskId).catch(() => undefined); // unreadable now: checked again at the next lock renewal
    if (!task || !this.held.has(taskId)) return;
    if (task.status === 'running' && task.owner === held.fence.owner && (task.epoch ?? 0) === held.fence.epoch) return;
    this.lose(
      taskId,
      new LegateError('lease_lost', `task "${taskId}" is ${task.status} (changed by another process); worker ${this.owner} stops it`, { taskId }),
    );
  }

  private lose(taskId: string, reason: LegateError): void {
    const held = this.held.get(taskId);
    if (!held) return;
    this.held.delete(taskId);
    held.stopListening();
    this.inner.release(taskId);
    held.lost(reason);
  }
}
