import { Redis } from 'ioredis';
import { heartbeatMsFor, StoreLeaseKeeper } from '../lease-keeper.js';
import { newOwnerId } from '../owner.js';
import { closeRedis, storeError } from '../store/redis/redis-connection.js';
import type { TaskStore } from '../store/task-store.js';
import type { TaskService, TaskServiceOptions } from '../task-service.js';
import { EndChannel } from './end-channel.js';
import { QueueDispatcher } from './queue-dispatcher.js';
import { QueueWorkers, type QueueWorkersOptions } from './queue-workers.js';
import { SharedLeaseKeeper } from './shared-lease-keeper.js';
import { SharedTaskEnds } from './shared-task-ends.js';
import { TaskQueues } from './task-queues.js';
import { WaitingSweep } from './waiting-sweep.js';

export interface SharedDispatchOptions {
  url: string;
  /** `tasks.redis_prefix`. */
  prefix: string;
  /** The shared (Redis) task store of this process. */
  store: TaskStore;
  /** `tasks.lease_seconds` in ms: the store lease and the job lock. */
  leaseMs: number;
  /**
   * Spawned tasks go on the BullMQ queues (`--dispatch-only`, and a worker's own children), instead
   * of running in this process as without it.
   */
  queueSpawns: boolean;
  /** This process's owner id (default: a new one). */
  owner?: string;
  /** How often a waiter reads the store in case an end message was lost, ms (default 5 s). */
  fallbackPollMs?: number;
}

/**
 * Shared mode's parts of a process, chosen once when its runtime is built: task ends heard over
 * Redis Pub/Sub (`SharedTaskEnds`), leases that a cancel message or a lost job lock breaks at once
 * (`SharedLeaseKeeper`), and — for a process that queues its spawns — the BullMQ dispatcher. A
 * worker adds its queue workers (`startWorkers`). Design: docs/shared-mode.md.
 */
export class SharedDispatch {
  private workers: QueueWorkers | undefined;
  private sweep: WaitingSweep | undefined;

  private constructor(
    private readonly connection: Redis,
    private readonly subscriber: Redis,
    readonly queues: TaskQueues,
    readonly leases: SharedLeaseKeeper,
    readonly ends: SharedTaskEnds,
    readonly dispatcher: QueueDispatcher | undefined,
    readonly leaseMs: number,
  ) {}

  /** Connects (`store_unavailable` naming the masked URL when Redis cannot be reached). */
  static async open(options: SharedDispatchOptions): Promise<SharedDispatch> {
    // BullMQ's connections wait through any outage (no per-command retry limit): a worker outlives a Redis restart.
    const connection = new Redis(options.url, { lazyConnect: true, maxRetriesPerRequest: null, connectTimeout: 3_000 });
    connection.on('error', () => {});
    const subscriber = connection.duplicate();
    subscriber.on('error', () => {});
    try {
      await connection.connect();
      await subscriber.connect();
      const channel = await EndChannel.open(connection, subscriber, options.prefix);
      const queues = new TaskQueues(connection, options.prefix);
      const inner = new StoreLeaseKeeper(options.store, options.owner ?? newOwnerId(), options.leaseMs, heartbeatMsFor(options.leaseMs));
      const leases = new SharedLeaseKeeper(inner, options.store, channel);
      const ends = new SharedTaskEnds(channel, options.fallbackPollMs);
      let shared: SharedDispatch | undefined;
      const dispatcher = options.queueSpawns ? new QueueDispatcher(options.store, queues, () => shared?.workers?.running ?? 0) : undefined;
      shared = new SharedDispatch(connection, subscriber, queues, leases, ends, dispatcher, options.leaseMs);
      return shared;
    } catch (error) {
      connection.disconnect();
      subscriber.disconnect();
      throw storeError(options.url, error);
    }
  }

  /** The parts for `TaskService` (through `RuntimeOptions.taskParts`). */
  serviceOptions(): Pick<TaskServiceOptions, 'dispatcher' | 'leaseKeeper' | 'ends' | 'leaseMs'> {
    return { ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}), leaseKeeper: this.leases, ends: this.ends, leaseMs: this.leaseMs };
  }

  /** Run tasks from the shared queues in this process (`legate worker`), with a sweep for waiting tasks that lost their job. */
  startWorkers(
    tasks: TaskService,
    options: Pick<QueueWorkersOptions, 'concurrency' | 'maxDepth' | 'report' | 'stalledIntervalMs'> & { sweepMs?: number },
  ): QueueWorkers {
    this.workers ??= new QueueWorkers({ ...options, tasks, leases: this.leases, queues: this.queues, connection: this.connection, leaseMs: this.leaseMs });
    this.sweep ??= new WaitingSweep(tasks, this.queues, options.sweepMs ?? Math.max(2_000, this.leaseMs));
    this.sweep.start();
    void this.sweep.sweep();
    return this.workers;
  }

  async close(): Promise<void> {
    this.sweep?.stop();
    await this.workers?.close();
    await this.queues.close();
    this.leases.stop();
    await closeRedis(this.subscriber);
    await closeRedis(this.connection);
  }
}
