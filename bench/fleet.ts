import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { isTerminal, taskStatuses } from '../src/tasks/status.js';
import { RedisTaskStore } from '../src/tasks/store/redis/redis-store.js';
import type { TaskRecord } from '../src/tasks/task-record.js';
import { benchKey, benchModel, scratchDir, startModelServer } from './common.js';
import { type BenchRedis, startBenchRedis } from './redis-server.js';

/**
 * A fleet of `legate worker` processes on one shared Redis, for the shared-mode benchmarks. Each
 * worker stands for a machine: its own LEGATE_HOME and config.yaml (same model name, same scripted
 * server, its own API key), started through the CLI as a user would (`legate worker --concurrency
 * N`). Tasks are spawned by a separate process and followed through the shared store only, so the
 * harness works with whatever dispatch the workers use.
 *
 * How tasks are spawned (`spawnTasks`): when `legate run --help` offers `--dispatch-only`, a
 * `legate run --dispatch-only --no-wait` parent driven by the scripted model spawns them with
 * `delegate_task_async` (the path). Otherwise (the store-polling worker, before BullMQ
 * dispatch) a queued record written to the shared store is all a spawn hands to the workers, and
 * the harness writes exactly the record `TaskService.spawn` writes.
 */

const cliPath = fileURLToPath(new URL('./legate-cli.js', import.meta.url));
const run = promisify(execFile);

export interface Fleet {
  workers: FleetWorker[];
  stop(): Promise<void>;
}

export interface FleetWorker {
  index: number;
  pid: number;
  process: ChildProcess;
  stderr(): string;
}

/** The config.yaml of one "machine": the scripted model, the shared Redis, and `extra`. */
export function machineConfig(modelBaseUrl: string, redis: BenchRedis, machine: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: { provider: 'openai', name: benchModel, base_url: modelBaseUrl, api_key: `${benchKey}-${machine}`, max_retries: 2 },
    tasks: { redis_url: redis.url, redis_prefix: redis.prefix },
    ...extra,
  };
}

/** A LEGATE_HOME with its config.yaml under `root`. */
export function machineHome(root: string, machine: string, config: Record<string, unknown>): { home: string; configFile: string } {
  const home = join(root, machine);
  mkdirSync(home, { recursive: true });
  const configFile = join(home, 'config.yaml');
  writeFileSync(configFile, stringify(config));
  return { home, configFile };
}

/**
 * Starts `count` workers of `concurrency` each (one home per worker) and waits until every one
 * has printed its banner, so worker start-up is not measured.
 */
export async function startFleet(options: {
  count: number;
  concurrency: number;
  root: string;
  cwd: string;
  modelBaseUrl: string;
  redis: BenchRedis;
  steps: number;
}): Promise<Fleet> {
  const workers: FleetWorker[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(workers.map((worker) => stopProcess(worker.process)));
  };
  try {
    for (let index = 0; index < options.count; index++) {
      const machine = `worker-${index + 1}`;
      const { home, configFile } = machineHome(
        options.root,
        machine,
        machineConfig(options.modelBaseUrl, options.redis, machine, { delegation: { max_iterations: options.steps + 2 } }),
      );
      const child = spawn(process.execPath, [cliPath, '--config', configFile, 'worker', '--concurrency', String(options.concurrency)], {
        cwd: options.cwd,
        env: { ...process.env, LEGATE_HOME: home, LEGATE_REDIS_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      workers.push({ index: index + 1, pid: child.pid!, process: child, stderr: () => text });
    }
    await Promise.all(
      workers.map((worker) =>
        until(() => {
          if (worker.process.exitCode !== null) throw new Error(`worker ${worker.index} exited (${worker.process.exitCode}): ${worker.stderr()}`);
          return /legate worker/.test(worker.stderr());
        }, 60_000),
      ),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { workers, stop };
}

export interface SpawnOptions {
  count: number;
  /** Pause between two spawns, ms (0: all at once). */
  spacingMs: number;
  root: string;
  cwd: string;
  modelBaseUrl: string;
  redis: BenchRedis;
}

/**
 * Spawns `count` children (toolsets `file`, the bench model) from a process that runs none of
 * them (`legate run --dispatch-only`). The scripted model server must have been started with
 * `parent: { spawns: count, batch, delayMs }` (batch 1 with a delay to space the spawns).
 */
export async function spawnTasks(options: SpawnOptions): Promise<void> {
  const { home, configFile } = machineHome(
    options.root,
    'parent',
    machineConfig(options.modelBaseUrl, options.redis, 'parent', {
      // One model call per turn of spawns, and a final answer.
      agent: { toolsets: ['file', 'async_delegation'], max_iterations: options.count + 5 },
      delegation: { max_concurrent_children: Math.max(10, options.count), max_iterations: options.count + 5 },
    }),
  );
  await run(process.execPath, [cliPath, '--config', configFile, 'run', '--dispatch-only', '--no-wait', 'Spawn the bench tasks.'], {
    cwd: options.cwd,
    env: { ...process.env, LEGATE_HOME: home, LEGATE_REDIS_URL: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Waits until `count` tasks of the store have ended (any terminal status); returns every task. */
export async function waitForEnded(store: RedisTaskStore, count: number, timeoutMs: number): Promise<TaskRecord[]> {
  const ended = taskStatuses.filter(isTerminal);
  // Every 100 ms: the figures come from the records' timestamps, not from when this poll sees the
  // end, and a tighter poll takes CPU from the processes measured.
  await until(async () => (await store.count({ status: ended })) >= count, timeoutMs, 100);
  return store.list({ limit: count + 1_000 });
}

/** Which worker ran each task: tasks per worker, by the pid in the record's owner id (`host:pid:…`). */
export function spread(tasks: TaskRecord[], workers: FleetWorker[]): number[] {
  return workers.map((worker) => tasks.filter((task) => task.owner?.split(':')[1] === String(worker.pid)).length);
}

/** CPU (user + system) a process of this machine has used so far, ms (Linux: /proc/PID/stat). */
export function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the line (11 and 12 after the command), in clock ticks (100 per second).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** SIGINT (the worker hands running tasks back), then SIGKILL after 20 s. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A private Redis, the scripted model server, a scratch directory and a started fleet: what each shared-mode bench runs on. */
export interface FleetBench {
  redis: BenchRedis;
  store: RedisTaskStore;
  fleet: Fleet;
  /** Spawn the tasks from a `--dispatch-only` parent, wait for all to end, and return the children's records. */
  run(spacingMs: number): Promise<TaskRecord[]>;
  close(): Promise<void>;
}

/**
 * Start everything a fleet bench needs: `tasks` children of `steps` model calls each, answered
 * after `latencyMs`, spawned `batch` per parent turn (`delayMs` between turns), run by `workers`
 * `legate worker` processes of `concurrency` each.
 */
export async function openFleetBench(options: {
  workers: number;
  concurrency: number;
  tasks: number;
  steps: number;
  latencyMs: number;
  batch: number;
  delayMs: number;
}): Promise<FleetBench> {
  const { tasks, steps } = options;
  const redis = await startBenchRedis();
  const server = await startModelServer({
    mode: 'fanout',
    latencyMs: options.latencyMs,
    steps,
    parent: { spawns: tasks, batch: options.batch, delayMs: options.delayMs },
  });
  const scratch = scratchDir();
  const root = mkdtempSync(join(tmpdir(), 'legate-bench-fleet-'));
  const store = await RedisTaskStore.open({ url: redis.url, prefix: redis.prefix });
  const modelBaseUrl = server.openaiBaseUrl;
  const fleet = await startFleet({ count: options.workers, concurrency: options.concurrency, root, cwd: scratch.dir, modelBaseUrl, redis, steps });
  return {
    redis,
    store,
    fleet,
    async run(spacingMs) {
      await spawnTasks({ count: tasks, spacingMs, root, cwd: scratch.dir, modelBaseUrl, redis });
      return (await waitForEnded(store, tasks, 600_000)).filter((task) => task.depth === 1);
    },
    async close() {
      await fleet.stop();
      await store.close();
      await server.close();
      await redis.stop();
      scratch.dispose();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
