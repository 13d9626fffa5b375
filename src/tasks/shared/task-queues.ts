import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobIdFor, queueName, type TaskJobData } from './queue-names.js';

/**
 * The BullMQ queues of a deployment, one per task depth, opened when first used. `add` puts a
 * task waiting to be claimed under `epoch` on its depth's queue (see `jobIdFor`).
 */
export class TaskQueues {
  private readonly queues = new Map<number, Queue<TaskJobData>>();

  constructor(
    private readonly connection: Redis,
    /** `tasks.redis_prefix`: BullMQ's keys go under it. */
    readonly prefix: string,
  ) {}

  queue(depth: number): Queue<TaskJobData> {
    let queue = this.queues.get(depth);
    if (!queue) {
      queue = new Queue<TaskJobData>(queueName(depth), { connection: this.connection, prefix: this.prefix });
      queue.on('error', () => {});
      this.queues.set(depth, queue);
    }
    return queue;
  }

  async add(task: { id: string; depth: number; epoch?: number }): Promise<string> {
    const jobId = jobIdFor(task.id, task.epoch ?? 0);
    await this.queue(task.depth).add('task', { taskId: task.id }, { jobId, removeOnComplete: true, removeOnFail: true });
    return jobId;
  }

  /** Remove a job that waits (a cancelled task's); a running or absent job is left alone. */
  async remove(task: { id: string; depth: number; epoch?: number }): Promise<void> {
    await this.queue(task.depth)
      .remove(jobIdFor(task.id, task.epoch ?? 0))
      .catch(() => 0);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close().catch(() => {}))); // closing: a queue whose connection is already gone has nothing to flush
    this.queues.clear();
  }
}
