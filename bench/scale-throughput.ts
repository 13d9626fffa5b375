import { flags, report, type Summary, summarize } from './common.js';
import { openFleetBench, processCpuMs, spread } from './fleet.js';

/**
 * Throughput of a fleet of `legate worker` processes on one private Redis: `--workers` workers of
 * `--concurrency` each; `--tasks` tasks spawned at once by another process, each making `--steps`
 * model calls answered after `--latency` ms. Wall time runs from the first spawn (the earliest
 * `createdAt`) to the last task's `endedAt`, both read from the shared store.
 *
 *   node bench/dist/bench/scale-throughput.js --workers=3 [--concurrency=10 --tasks=120 --steps=3 --latency=500]
 */

export interface ThroughputResult {
  kind: 'throughput';
  dispatch: 'cli --dispatch-only' | 'store records (polling worker)';
  workers: number;
  concurrency: number;
  tasks: number;
  steps: number;
  latencyMs: number;
  /** Whole waves of `workers * concurrency` tasks times `steps * latency`: what perfect dispatch gives. */
  idealMs: number;
  wallMs: number;
  tasksPerSecond: number;
  completed: number;
  failures: string[];
  /** Tasks run by each worker, in start order. */
  spread: number[];
  /** Tasks that ran more than once (resumed elsewhere): should be none. */
  resumed: number;
  /** Per task, spawn to start on a worker (waiting for a slot, and dispatch), ms. */
  waitMs: Summary;
  /** Per task, start to end on its worker (`steps * latency` at best), ms. */
  runMs: Summary;
  /**
   * How long a worker's freed slot stayed empty while tasks were queued: per worker, the k-th start
   * after its first `concurrency` against its k-th end (both sorted), ms. Dispatch's share of the wall.
   */
  refillMs: Summary;
  /** CPU (user + system) each worker process used during the run, ms. */
  workerCpuMs: number[];
  redisVersion: string;
}

async function main(): Promise<void> {
  const options = flags();
  const workers = Number(options.get('workers') ?? 1);
  const concurrency = Number(options.get('concurrency') ?? 10);
  const tasks = Number(options.get('tasks') ?? 120);
  const steps = Number(options.get('steps') ?? 3);
  const latencyMs = Number(options.get('latency') ?? 500);

  const bench = await openFleetBench({ workers, concurrency, tasks, steps, latencyMs, batch: tasks, delayMs: 0 });
  const { redis, fleet } = bench;
  try {
    const cpuBefore = fleet.workers.map((worker) => processCpuMs(worker.pid));
    const records = await bench.run(0);
    const started = Math.min(...records.map((task) => task.createdAt));
    const ended = Math.max(...records.map((task) => task.endedAt ?? 0));
    const wallMs = ended - started;
    const workerCpuMs = fleet.workers.map((worker, index) => processCpuMs(worker.pid) - cpuBefore[index]!);
    const failures = records
      .filter((task) => task.status !== 'completed' || task.apiCalls !== steps)
      .map((task) => `${task.id}: ${task.status} ${task.error ?? ''} apiCalls=${task.apiCalls}`);
    const result: ThroughputResult = {
      kind: 'throughput',
      dispatch: 'cli --dispatch-only',
      workers,
      concurrency,
      tasks,
      steps,
      latencyMs,
      idealMs: Math.ceil(tasks / (workers * concurrency)) * steps * latencyMs,
      wallMs,
      tasksPerSecond: (records.length / wallMs) * 1000,
      completed: records.length - failures.length,
      failures: failures.slice(0, 5),
      spread: spread(records, fleet.workers),
      resumed: records.filter((task) => (task.epoch ?? 1) > 1).length,
      waitMs: summarize(records.map((task) => (task.startedAt ?? task.createdAt) - task.createdAt)),
      runMs: summarize(records.map((task) => (task.endedAt ?? 0) - (task.startedAt ?? 0))),
      refillMs: summarize(
        fleet.workers.flatMap((worker) => {
          const own = records.filter((task) => task.owner?.split(':')[1] === String(worker.pid));
          const starts = own.map((task) => task.startedAt ?? 0).sort((a, b) => a - b);
          const ends = own.map((task) => task.endedAt ?? 0).sort((a, b) => a - b);
          return starts.slice(concurrency).map((start, index) => start - ends[index]!);
        }),
      ),
      workerCpuMs,
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
