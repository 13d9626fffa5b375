import { setMaxListeners } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { configSchema } from '../src/config/schema.js';
import { Runtime } from '../src/runtime.js';
import { MemoryTaskStore } from '../src/tasks/store/memory-store.js';
import * as redisScripts from '../src/tasks/store/redis/scripts/index.js';
import { SqliteTaskStore } from '../src/tasks/store/sqlite/sqlite-store.js';
import type { TaskSpec } from '../src/tasks/task-record.js';
import { executeToolCall } from '../src/tools/execute.js';
import { benchKey, benchModel, collectGarbage, flags, nowUs, report, type Summary, scratchDir, startModelServer, summarize, windowProfiler } from './common.js';
import { openSharedRuntime } from './shared-runtime.js';

/**
 * Lifecycle operation cost in-process with `tasks` live tasks (all running: each child's first
 * model call never gets an answer). Spawns them one after another, timing each spawn, waits until
 * every child's model request reached the server, then times check, steer and list.
 *
 * `--layer=tool`: the agent tools as the loop runs them (`executeToolCall`: JSON arguments, zod
 * validation, the operation, the JSON view). `--layer=raw`: the TaskService calls underneath
 * (check = `trail`: the record, the output tail and the steers, read at once, as check_task reads them).
 *
 *   node bench/dist/bench/lifecycle.js --tasks=1000 --store=memory|sqlite|redis --layer=tool|raw [--yield]
 *
 * `--store=redis` is shared mode: a private redis-server, and the runtime `openRuntime` builds for
 * a config.yaml with `tasks.redis_url`.
 */

export interface LifecycleResult {
  kind: 'lifecycle';
  store: 'memory' | 'sqlite' | 'redis';
  layer: 'tool' | 'raw';
  tasks: number;
  /** `--yield`: each timed spawn included one turn of the event loop after the call. */
  yielded?: boolean;
  ops: Record<'spawn' | 'check' | 'steer' | 'list', Summary>;
  /** RSS and heap growth per live task (after GC), all children waiting on their first model call. */
  rssPerLiveTask: number;
  heapPerLiveTask: number;
  inFlightAtServer: number;
  /**
   * This process's CPU (user + system) from the first measured spawn until every child's model
   * request reached the server, per task, ms: what one child costs to spawn and start, whichever
   * spawn call's timing the microtasks of a child's start happened to fall into.
   */
  spawnToRequestCpuMsPerTask: number;
  /**
   * Shared mode: sequential PING round trips to the same Redis on another connection, timed the
   * same way right after the checks (what one Redis round trip costs on this machine just then).
   */
  redisPing?: Summary;
  /**
   * Shared mode: commands Redis itself took over 250 us to run during the checks (SLOWLOG), by
   * script name (or command), with their count, total and longest run: what a check can queue behind.
   */
  redisSlow?: Record<string, { count: number; totalUs: number; maxUs: number }>;
  /** How long the checks took in all, ms (to read `redisSlow` against). */
  checkWindowMs?: number;
}

async function main(): Promise<void> {
  const options = flags();
  const tasks = Number(options.get('tasks') ?? 1000);
  const storeKind = options.get('store') === 'sqlite' ? 'sqlite' : options.get('store') === 'redis' ? 'redis' : 'memory';
  const layer = options.get('layer') === 'raw' ? 'raw' : 'tool';
  // `--yield`: each timed spawn also waits for the event loop to turn once (`setImmediate`), so it
  // holds the spawned child's whole start up to its model request, not whatever share of it the
  // microtask queue happened to run before the spawn call returned.
  const yieldAfterSpawn = options.has('yield');
  const checkRounds = Number(options.get('check-rounds') ?? 5);
  const listSamples = Number(options.get('list-samples') ?? 100);
  const warmup = 50;

  const server = await startModelServer({ mode: 'hang', latencyMs: 0, steps: 1 });
  const scratch = scratchDir();
  const rawConfig = {
    model: { provider: 'openai', name: benchModel, base_url: server.openaiBaseUrl, api_key: benchKey },
    delegation: { max_concurrent_children: tasks + warmup },
    agent: { toolsets: ['file', 'async_delegation'] },
  };
  const home = join(scratch.dir, 'home');
  mkdirSync(home, { recursive: true });
  const shared = storeKind === 'redis' ? await openSharedRuntime({ home, cwd: scratch.dir, config: rawConfig }) : undefined;
  const runtime =
    shared?.runtime ??
    new Runtime({
      loaded: { config: configSchema.parse(rawConfig), file: undefined, home, unset: new Map() },
      cwd: scratch.dir,
      store: storeKind === 'sqlite' ? SqliteTaskStore.open(join(home, 'state.db')) : new MemoryTaskStore(),
    });
  const sessionId = 's_bench';
  const service = runtime.tasks;
  const tools = new Map(runtime.toolsFor({ sessionId, depth: 0, toolsets: ['file', 'async_delegation'] }).map((tool) => [tool.name, tool]));
  // The parent's turn signal, shared by all its tool calls, set up as runAgentLoop sets it up.
  const signal = new AbortController().signal;
  setMaxListeners(0, signal);
  const context = { cwd: scratch.dir, signal, io: runtime.io };
  let callIds = 0;
  const call = async (name: string, args: object): Promise<string> => {
    const result = await executeToolCall(tools, { id: `call_${++callIds}`, name, arguments: JSON.stringify(args) }, context);
    if (result.isError) throw new Error(`${name} failed: ${result.content}`);
    return result.content;
  };
  const spec = (goal: string): TaskSpec => ({ goal, toolsets: ['file'], model: benchModel, depth: 1, sessionId, mode: 'async', cwd: scratch.dir });
  const ops = {
    spawn: async (index: number): Promise<string> =>
      layer === 'tool'
        ? String(
            (JSON.parse(await call('delegate_task_async', { goal: `task ${index}: list the working directory`, toolsets: ['file'] })) as { task_id: string })
              .task_id,
          )
        : (await service.spawn(spec(`task ${index}: list the working directory`))).id,
    check: async (id: string): Promise<void> => {
      if (layer === 'tool') await call('check_task', { task_id: id });
      else await service.trail(sessionId, id);
    },
    steer: async (id: string): Promise<void> => {
      if (layer === 'tool') await call('steer_task', { task_id: id, message: 'focus on the largest file' });
      else await service.steer(sessionId, id, 'focus on the largest file');
    },
    list: async (): Promise<void> => {
      if (layer === 'tool') await call('list_tasks', {});
      else await service.list(sessionId);
    },
  };
  const time = async (action: () => Promise<unknown>): Promise<number> => {
    const started = nowUs();
    await action();
    return nowUs() - started;
  };
  const settle = async (expected: number): Promise<number> => {
    // Every child has sent its first model request, and the event loop is quiet again.
    const deadline = Date.now() + 60_000;
    let stats = await server.stats();
    while (stats.requests < expected && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      stats = await server.stats();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    return stats.requests;
  };

  // Warm up every path (JIT), then end the warm-up tasks so only the measured ones stay live.
  const warm: string[] = [];
  for (let index = 0; index < warmup; index++) warm.push(await ops.spawn(index));
  await settle(warmup);
  for (const id of warm) {
    await ops.check(id);
    await ops.steer(id);
  }
  await ops.list();
  for (const id of warm) await service.cancel(sessionId, id);
  server.reset();
  await new Promise((resolve) => setTimeout(resolve, 300));
  collectGarbage();
  const before = process.memoryUsage();
  const profiler = await windowProfiler(options.get('profile'));

  const ids: string[] = [];
  const spawnTimes: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let index = 0; index < tasks; index++) {
    let id = '';
    spawnTimes.push(
      await time(async () => {
        id = await ops.spawn(index);
        if (yieldAfterSpawn) await new Promise((resolve) => setImmediate(resolve));
      }),
    );
    ids.push(id);
  }
  const inFlightAtServer = await settle(tasks);
  const spawnCpu = process.cpuUsage(cpuBefore);
  collectGarbage();
  const after = process.memoryUsage();

  const slowlog = shared ? new Redis(shared.redis.url) : undefined;
  if (slowlog) {
    await slowlog.config('SET', 'slowlog-log-slower-than', '250');
    await slowlog.config('SET', 'slowlog-max-len', '100000');
    await slowlog.slowlog('RESET');
  }
  const checkStarted = performance.now();
  const checkTimes: number[] = [];
  for (let round = 0; round < checkRounds; round++) {
    for (let index = 0; index < ids.length; index++) {
      const id = ids[(index * 7919 + round * 104_729) % ids.length]!;
      checkTimes.push(await time(() => ops.check(id)));
    }
  }
  const checkWindowMs = performance.now() - checkStarted;
  let redisSlow: LifecycleResult['redisSlow'];
  if (slowlog) {
    redisSlow = {};
    // SLOWLOG keeps the first 128 characters of each argument: a script is named by its start (the
    // task write scripts share theirs, the replay prelude, and are named together).
    const scriptName = (text: string): string => {
      const head = text.replace(/\.\.\. \(\d+ more bytes\)$/, '');
      const matches = Object.entries(redisScripts).filter(([, script]) => typeof script === 'string' && script.startsWith(head));
      return matches.map(([name]) => name.replace(/Script$/, '')).join(' | ') || 'eval (other)';
    };
    for (const entry of (await slowlog.slowlog('GET', '-1')) as [number, number, number, string[]][]) {
      const [, , us, args] = entry;
      const command = args[0]?.toLowerCase();
      // FCALL names its function: `legate_<hash>_<script>`.
      const name =
        command === 'eval' ? scriptName(args[1] ?? '') : command === 'fcall' ? `fcall ${(args[1] ?? '?').replace(/^legate_[0-9a-f]+_/, '')}` : (command ?? '?');
      const slot = (redisSlow[name] ??= { count: 0, totalUs: 0, maxUs: 0 });
      slot.count++;
      slot.totalUs += us;
      slot.maxUs = Math.max(slot.maxUs, us);
    }
    slowlog.disconnect();
  }
  const steerTimes: number[] = [];
  for (const id of ids) steerTimes.push(await time(() => ops.steer(id)));
  const listTimes: number[] = [];
  for (let index = 0; index < listSamples; index++) listTimes.push(await time(() => ops.list()));

  await profiler.stop();
  let redisPing: Summary | undefined;
  if (shared) {
    const ping = new Redis(shared.redis.url);
    await ping.ping();
    const pingTimes: number[] = [];
    for (let index = 0; index < checkRounds * tasks; index++) pingTimes.push(await time(() => ping.ping()));
    ping.disconnect();
    redisPing = summarize(pingTimes);
  }
  const running = (await service.list(sessionId, { status: ['running'] })).length;
  if (running !== tasks) throw new Error(`expected ${tasks} running tasks, found ${running}`);
  if (shared) await shared.close();
  else await runtime.close();
  await server.close();
  scratch.dispose();

  const result: LifecycleResult = {
    kind: 'lifecycle',
    store: storeKind,
    layer,
    tasks,
    ...(yieldAfterSpawn && { yielded: true }),
    ops: { spawn: summarize(spawnTimes), check: summarize(checkTimes), steer: summarize(steerTimes), list: summarize(listTimes) },
    rssPerLiveTask: (after.rss - before.rss) / tasks,
    heapPerLiveTask: (after.heapUsed - before.heapUsed) / tasks,
    inFlightAtServer,
    spawnToRequestCpuMsPerTask: (spawnCpu.user + spawnCpu.system) / 1000 / tasks,
    ...(redisPing && { redisPing }),
    ...(redisSlow && { redisSlow, checkWindowMs }),
  };
  await report(result);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
