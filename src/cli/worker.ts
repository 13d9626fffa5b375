import { errorMessage } from '../errors.js';
import { operator } from '../tasks/caller.js';
import { openRuntime, type GlobalOptions, type Streams } from './context.js';

export interface WorkerOptions extends GlobalOptions {
  concurrency?: string;
  /** Exit once nothing is queued, interrupted or running (scripts and tests). */
  untilIdle?: boolean;
}

/**
 * `legate worker`: run the queued and interrupted tasks of this LEGATE_HOME until stopped.
 * Ctrl-C (or SIGTERM) hands running tasks back as `interrupted`, resumable by the next worker.
 */
export async function workerCommand(options: WorkerOptions, streams: Streams): Promise<number> {
  const runtime = await openRuntime(options, streams);
  const concurrency = options.concurrency === undefined ? runtime.config.delegation.max_concurrent_children : Number(options.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    await runtime.close();
    streams.stderr.write(`legate: --concurrency must be a whole number >= 1 (got "${options.concurrency}")\n`);
    return 2;
  }
  const say = (line: string): void => void streams.stderr.write(`${line}\n`);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const unsubscribe = runtime.tasks.subscribe((event) => {
    if (event.type === 'task.started') say(`  ▸ ${event.task.id} running: ${event.task.goal.slice(0, 70)}`);
    if (event.type === 'task.ended') say(`  ◂ ${event.task.id} ${event.task.status}`);
  });
  say(`legate worker: running tasks of ${runtime.configFile ?? 'this LEGATE_HOME'} (up to ${concurrency} at once; Ctrl-C hands them back)`);
  try {
    while (!stop.signal.aborted) {
      const free = concurrency - runtime.tasks.activeCount;
      const started = free > 0 ? await runtime.tasks.claimWaiting(free) : [];
      if (options.untilIdle && started.length === 0 && runtime.tasks.activeCount === 0) {
        const waiting = await runtime.tasks.list(operator, { status: ['queued', 'interrupted', 'running'], limit: 1 });
        if (waiting.length === 0) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 500).unref());
    }
    return 0;
  } catch (error) {
    say(`legate: ${errorMessage(error)}`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    unsubscribe();
    if (stop.signal.aborted) say('  stopping: handing running tasks back as interrupted');
    await runtime.close();
  }
}
