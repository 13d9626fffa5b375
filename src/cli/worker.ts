import { hostname } from 'node:os';
import { legateHome } from '../config/load.js';
import { errorMessage } from '../errors.js';
import { sleep } from '../provider/sleep.js';
import type { Runtime } from '../runtime.js';
import { operator } from '../tasks/caller.js';
import type { SharedDispatch } from '../tasks/shared/shared-dispatch.js';
import { describeOutcome } from '../tasks/shared/task-job.js';
import { maskRedisUrl } from '../tasks/store/redis/redis-connection.js';
import { RedisWorkerRegistry } from '../tasks/store/redis/redis-worker-registry.js';
import { unlessAborted } from '../tasks/unless-aborted.js';
import { workerHeartbeatMs } from '../tasks/worker-registry.js';
import type { CommandLog } from './command-log.js';
import { type GlobalOptions, logOf, openRuntime, type Streams, sharedStoreUrl } from './context.js';
import { armStopBound, stopBoundSeconds } from './stop-bound.js';

export interface WorkerOptions extends GlobalOptions {
  concurrency?: string;
  /** Exit once nothing is queued, interrupted or running (scripts and tests). */
  untilIdle?: boolean;
}

/** How often an idle worker looks for new tasks in the store (another process may add them). */
const pollIntervalMs = 500;

/** How long the BullMQ workers get to close once the hand-back is done or given up. */
const closeBoundMs = 3_000;

/**
 * `legate worker`: run the queued and interrupted tasks of this LEGATE_HOME until stopped, picking
 * up tasks that other processes add while it waits (`--until-idle`: exit once there are none).
 * In shared mode it takes them from the shared BullMQ queues instead (docs/shared-mode.md), from
 * any machine. Ctrl-C (or SIGTERM) hands running tasks back as `interrupted`, resumable by the next worker.
 */
export async function workerCommand(options: WorkerOptions, streams: Streams): Promise<number> {
  const shared: { dispatch?: SharedDispatch } = {};
  const runtime = await openRuntime(options, streams, { queueSpawns: true, shared });
  const concurrency = options.concurrency === undefined ? runtime.config.delegation.max_concurrent_children : Number(options.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    await runtime.close();
    streams.stderr.write(`legate: --concurrency must be a whole number >= 1 (got "${options.concurrency}")\n`);
    return 2;
  }
  const say = (line: string): void => void streams.stderr.write(`${line}\n`);
  await runtime.warmUp();
  const stop = new AbortController();
  let disarm = (): void => {};
  const onSignal = (): void => {
    disarm = armStopBound(stopBoundSeconds(runtime.config.tasks.lease_seconds), say);
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const unsubscribe = runtime.tasks.subscribe((event) => {
    if (event.type === 'task.started') say(`  ▸ ${event.task.id} running: ${event.task.goal.slice(0, 70)}`);
    if (event.type === 'task.ended') say(`  ◂ ${event.task.id} ${event.task.status}`);
  });
  const sharedUrl = sharedStoreUrl(runtime.config, streams.env);
  say(
    sharedUrl === undefined
      ? `legate worker: running tasks of LEGATE_HOME ${legateHome(streams.env)} (up to ${concurrency} at once; Ctrl-C hands them back)`
      : `legate worker ${runtime.tasks.owner}: running tasks of the shared store at ${maskRedisUrl(sharedUrl)} ` +
          `from the shared queue (up to ${concurrency} at once per depth, depths 1-${Math.max(1, runtime.config.delegation.max_spawn_depth)}; Ctrl-C hands them back)`,
  );
  let waiting = false;
  try {
    if (shared.dispatch && sharedUrl !== undefined) {
      return await runSharedWorker(runtime, shared.dispatch, sharedUrl, concurrency, options.untilIdle === true, stop.signal, logOf(streams), say);
    }
    while (!stop.signal.aborted) {
      const free = concurrency - runtime.tasks.activeCount;
      const started = free > 0 ? await runtime.tasks.claimWaiting(free) : [];
      const idle = started.length === 0 && runtime.tasks.activeCount === 0;
      if (options.untilIdle && idle) {
        const open = await runtime.tasks.list(operator, { status: ['queued', 'interrupted', 'running'], limit: 1 });
        if (open.length === 0) break;
      }
      // Said once each time the worker runs out of work, not at every poll.
      if (idle && !waiting && !options.untilIdle) say('  waiting for tasks (Ctrl-C to stop)');
      waiting = idle;
      // A referenced timer: it is what keeps the process alive while nothing runs.
      await sleep(pollIntervalMs, stop.signal).catch(() => {});
    }
    return 0;
  } catch (error) {
    say(`legate: ${errorMessage(error)}`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    unsubscribe();
    if (stop.signal.aborted && !shared.dispatch) say('  stopping: handing running tasks back as interrupted');
    await runtime.close();
    disarm();
  }
}

/**
 * Shared mode: take tasks from the shared BullMQ queues (one per depth up to
 * `delegation.max_spawn_depth`, `concurrency` each) until stopped. Stopping refuses new jobs first,
 * hands running tasks back (each goes on the queue again for another worker), then closes.
 */
async function runSharedWorker(
  runtime: Runtime,
  shared: SharedDispatch,
  url: string,
  concurrency: number,
  untilIdle: boolean,
  stop: AbortSignal,
  log: CommandLog,
  say: (line: string) => void,
): Promise<number> {
  const workers = shared.startWorkers(runtime.tasks, {
    concurrency,
    maxDepth: runtime.config.delegation.max_spawn_depth,
    report: (_line, taskId, outcome) => log.detail(describeOutcome(taskId, outcome)),
  });
  // Announce this worker (id, host, concurrency) for the dashboard's Workers page.
  const registry = await RedisWorkerRegistry.open({ url, prefix: runtime.config.tasks.redis_prefix, connectTimeoutMs: 3_000 }).catch(() => undefined);
  const announced = { id: runtime.tasks.owner, host: hostname(), concurrency, startedAt: Date.now(), heartbeatAt: 0 };
  try {
    while (!stop.aborted) {
      if (registry && Date.now() - announced.heartbeatAt >= workerHeartbeatMs) {
        announced.heartbeatAt = Date.now();
        // Raced with the stop: while Redis is down a command waits through its reconnection attempts. Best effort:
        // the next heartbeat announces again.
        await unlessAborted(
          registry.announce(announced).catch(() => {}),
          stop,
        );
      }
      if (untilIdle && workers.running === 0) {
        const open = await unlessAborted(runtime.tasks.list(operator, { status: ['queued', 'interrupted', 'running'], limit: 1 }), stop);
        if (open?.length === 0) break;
      }
      // A referenced timer: it is what keeps the process alive while the queue is empty.
      await sleep(pollIntervalMs, stop).catch(() => {});
    }
    return 0;
  } finally {
    if (stop.aborted) say('  stopping: handing running tasks back as interrupted');
    workers.beginClose();
    // The hand-back is a store write: past the lease it is moot (another worker may take the task over).
    const notHandedBack = await runtime.tasks.shutdown(AbortSignal.timeout(runtime.config.tasks.lease_seconds * 1000));
    if (notHandedBack.length > 0) {
      say(
        `  could not hand back ${notHandedBack.join(', ')}: the Redis at ${maskRedisUrl(url)} did not answer; ` +
          'they are taken over once their lease runs out',
      );
    }
    // Bounded too: an unforced close waits for the running jobs' last writes, which retry while Redis is down.
    await workers.close(AbortSignal.timeout(closeBoundMs));
    // Stopping: an entry left behind goes stale and is dropped.
    await unlessAborted(
      registry?.leave(announced.id).catch(() => {}),
      AbortSignal.timeout(1_000),
    );
    await registry?.close();
  }
}
