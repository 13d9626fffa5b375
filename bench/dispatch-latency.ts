import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisTaskStore } from '../src/tasks/store/redis/redis-store.js';
import { flags, report, type Summary, scratchDir, startModelServer, summarize } from './common.js';
import { spawnTasks, spread, startFleet, waitForEnded } from './fleet.js';
import { startBenchRedis } from './redis-server.js';

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

  const redis = await startBenchRedis();
  const server = await startModelServer({ mode: 'fanout', latencyMs, steps: 1, parent: { spawns: tasks, batch: 1, delayMs: spacingMs } });
  const scratch = scratchDir();
  const root = mkdtempSync(join(tmpdir(), 'legate-bench-fleet-'));
  const store = await RedisTaskStore.open({ url: redis.url, prefix: redis.prefix });
  const fleet = await startFleet({ count: workers, concurrency, root, cwd: scratch.dir, modelBaseUrl: server.openaiBaseUrl, redis, steps: 1 });
  try {
    await spawnTasks({ count: tasks, spacingMs, root, cwd: scratch.dir, modelBaseUrl: server.openaiBaseUrl, redis });
    const records = (await waitForEnded(store, tasks, 600_000)).filter((task) => task.depth === 1);
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
    await fleet.stop();
    await store.close();
    await server.close();
    await redis.stop();
    scratch.dispose();
    rmSync(root, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
