import { flags, report, type Summary, summarize } from './common.js';
import { openFleetBench, spread } from './fleet.js';

/**
 * Dispatch latency in shared mode: from a task's spawn in one process to its start on a worker in
 * another, i.e. `startedAt - createdAt` of each record in the shared store (one machine, one
 * clock). `--tasks` tasks are spawned one at a time, `--spacing` ms apart, onto `--workers` idle
 * workers of `--concurrency` each, so a task never waits for a free slot: what is measured is
 * dispatch alone. Each task makes one model call answered after `--latency` ms.
 *
 *   node bench/dist/bench/dispatch-latency.js [--workers=2 --concurrency=10 --tasks=200 --spacing=50 --latency=50]
 */

export interface DispatchResult {
  kind: 'dispatch';
  dispatch: 'cli --dispatch-only' | 'store records (polling worker)';
  workers: number;
  concurrency: number;
  tasks: number;
  spacingMs: number;
  /** Spawn (`createdAt`) to running (`startedAt`) on a worker, ms. */
  latency: Summary;
  /** Spawn to the task's end, ms (one model call of `latencyMs`). */
  endToEnd: Summary;
  completed: number;
  spread: number[];
  redisVersion: string;
}

async function main(): Promise<void> {
  const options = flags();
  const workers = Number(options.get('workers') ?? 2);
  const concurrency = Number(options.get('concurrency') ?? 10);
  const tasks = Number(options.get('tasks') ?? 200);
  const spacingMs = Number(options.get('spacing') ?? 50);
  const latencyMs = Number(options.get('latency') ?? 50);

  const bench = await openFleetBench({ workers, concurrency, tasks, steps: 1, latencyMs, batch: 1, delayMs: spacingMs });
  const { redis, fleet } = bench;
  try {
    const records = await bench.run(spacingMs);
    const result: DispatchResult = {
      kind: 'dispatch',
      dispatch: 'cli --dispatch-only',
      workers,
      concurrency,
      tasks,
      spacingMs,
      latency: summarize(records.filter((task) => task.startedAt !== undefined).map((task) => task.startedAt! - task.createdAt)),
      endToEnd: summarize(records.filter((task) => task.endedAt !== undefined).map((task) => task.endedAt! - task.createdAt)),
      completed: records.filter((task) => task.status === 'completed').length,
      spread: spread(records, fleet.workers),
      redisVersion: redis.version,
    };
    await report(result);
  } finally {
    await bench.close();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
