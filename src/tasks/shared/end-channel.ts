import type { Redis } from 'ioredis';
import { endsChannel } from './queue-names.js';

/**
 * Task ends as Redis Pub/Sub messages, across processes and machines: `publish(taskId)` when a task
 * ends (completed, failed, cancelled) here; `listen(taskId, fn)` hears it wherever it ended. The
 * message is only the task id: listeners read the store for the rest. One subscriber connection per
 * process (ioredis resubscribes after a reconnect; a message sent while disconnected is lost, so
 * listeners also look at the store now and then).
 */
export class EndChannel {
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly everyEnd = new Set<(taskId: string) => void>();
  private readonly channel: string;

  private constructor(
    private readonly publisher: Redis,
    subscriber: Redis,
    prefix: string,
  ) {
    this.channel = endsChannel(prefix);
    subscriber.on('message', (channel: string, taskId: string) => {
      if (channel !== this.channel) return;
      for (const listener of [...(this.listeners.get(taskId) ?? [])]) listener();
      for (const listener of [...this.everyEnd]) listener(taskId);
    });
  }

  /** Subscribes `subscriber` (a connection of its own) and publishes through `publisher`. */
  static async open(publisher: Redis, subscriber: Redis, prefix: string): Promise<EndChannel> {
    const channel = new EndChannel(publisher, subscriber, prefix);
    await subscriber.subscribe(endsChannel(prefix));
    return channel;
  }

  /** Say that the task ended (best effort: listeners also read the store). */
  publish(taskId: string): void {
    this.publisher.publish(this.channel, taskId).catch(() => {}); // Redis away: waiters fall back to reading the store
  }

  /** Call `listener` with the id of every task a process says ended. Returns the function that stops it. */
  listenAll(listener: (taskId: string) => void): () => void {
    this.everyEnd.add(listener);
    return () => this.everyEnd.delete(listener);
  }

  /** Call `listener` whenever a process says the task ended. Returns the function that stops it. */
  listen(taskId: string, listener: () => void): () => void {
    const set = this.listeners.get(taskId) ?? new Set<() => void>();
    this.listeners.set(taskId, set);
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(taskId) === set) this.listeners.delete(taskId);
    };
  }
}
