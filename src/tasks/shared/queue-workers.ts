import { type Job, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TaskService } from '../task-service.js';
import { unlessAborted } from '../unless-aborted.js';
import { queueName, type TaskJobData, taskIdOfJob } from './queue-names.js';
import type { SharedLeaseKeeper } from './shared-lease-keeper.js';
import { runTaskJob, type TaskJobOutcome } from './task-job.js';
import type { TaskQueues } from './task-queues.js';

export interface QueueWorkersOptions {
  tasks: TaskService;
  leases: SharedLeaseKeeper;
  queues: TaskQueues;
  /** A connection for BullMQ (`maxRetriesPerRequest: null`); each worker duplicates it for its blocking reads. */
  connection: Redis;
  /** Tasks at once per depth (`legate worker --concurrency N`). */
  concurrency: number;
  /** Depths served: 1 … `maxDepth` (`delegation.max_spawn_depth`), one queue each. */
  maxDepth: number;
  /** The job lock, and the store lease, ms (`tasks.lease_seconds`). */
  leaseMs: number;
  /** How often stalled jobs are looked for, ms (default: a third of the lease, at least 500). */
  stalledIntervalMs?: number;
  /** Told about each job's end and about errors (the worker's log). */
  report?: (line: string, taskId: string, outcome: TaskJobOutcome | Error) => void;
}

/**
 * The BullMQ workers of one process: one per depth queue, each running up to `concurrency` tasks.
 * BullMQ gives the locks, stall recovery and fetching; legate adds what BullMQ 6.7 leaves out:
 * - a lost lock (`lockRenewalFailed`) aborts the child (`SharedLeaseKeeper.lockLost`);
 * - `maxStalledCount` is effectively unlimited: legate's own `tasks.max_resumes` decides when a
 *   task that keeps losing its worker fails;
 * - once closing, a job a pending fetch still took is put back on its queue (`moveToWait`), so it
 *   goes to a worker that stays, not this one.
 */
export class QueueWorkers {
  private readonly workers: Worker<TaskJobData, TaskJobOutcome>[] = [];
  private closingNow = false;
  private closed: Promise<unknown> | undefined;
  private runningJobs = 0;

  constructor(private readonly options: QueueWorkersOptions) {
    const { connection, concurrency, leaseMs } = options;
    for (let depth = 1; depth <= Math.max(1, options.maxDepth); depth++) {
      const worker = new Worker<TaskJobData, TaskJobOutcome>(queueName(depth), (job, token) => this.process(job, token), {
        connection,
        prefix: options.queues.prefix,
        concurrency,
        lockDuration: leaseMs,
        stalledInterval: options.stalledIntervalMs ?? Math.max(500, Math.floor(leaseMs / 3)),
        maxStalledCount: 1_000_000,
        autorun: true,
      });
      worker.on('lockRenewalFailed', (jobIds: string[]) => {
        for (const jobId of jobIds) options.leases.lockLost(taskIdOfJob(jobId), jobId);
      });
      worker.on('error', () => {
        // Connection trouble: BullMQ reconnects and carries on; the store lease decides what is lost.
      });
      this.workers.push(worker);
    }
  }

  /** Tasks running here now. */
  get running(): number {
    return this.runningJobs;
  }

  get closing(): boolean {
    return this.closingNow;
  }

  /**
   * Take no new job from now on: BullMQ stops fetching, and a job a pending fetch still brings goes
   * back to its queue. Running tasks go on (hand them back with `TaskService.shutdown`).
   */
  beginClose(): void {
    this.closingNow = true;
    // BullMQ's close waits for the running jobs, so it is awaited in `close`. While Redis is unreachable it is
    // forced: unforced, it waits for its pending fetch and the running jobs' writes, which
    // (`maxRetriesPerRequest: null`) retry until Redis answers, maybe never. The jobs' locks then expire.
    const force = this.options.connection.status !== 'ready';
    this.closed ??= Promise.all(this.workers.map((worker) => worker.close(force).catch(() => {})));
  }

  /**
   * `beginClose`, then wait for the running jobs to end and the workers to close; past `bound`, stop
   * waiting and drop the workers' connections (their jobs' locks expire, and the tasks are taken over).
   */
  async close(bound?: AbortSignal): Promise<void> {
    this.beginClose();
    if (bound === undefined) return void (await this.closed);
    const closed = await unlessAborted(
      this.closed!.then(() => true),
      bound,
    );
    if (closed) return;
    this.closed = Promise.resolve(); // given up: a later close does not wait again
    for (const worker of this.workers) void worker.disconnect().catch(() => {});
  }

  /** Run the job's task, or put the job back when closing. */
  async process(job: Job<TaskJobData, TaskJobOutcome>, token?: string): Promise<TaskJobOutcome> {
    const { taskId } = job.data;
    if (this.closingNow) {
      await job.moveToWait(token);
      throw new WaitingError();
    }
    this.runningJobs++;
    try {
      const outcome = await runTaskJob(taskId, {
        tasks: this.options.tasks,
        queues: this.options.queues,
        leaseMs: this.options.leaseMs,
        holds: (id) => this.options.leases.holds(id),
      });
      this.options.report?.(`job ${job.id}`, taskId, outcome);
      return outcome;
    } catch (error) {
      this.options.report?.(`job ${job.id}`, taskId, error as Error);
      return { ran: false, why: String(error) };
    } finally {
      this.runningJobs--;
    }
  }
}
