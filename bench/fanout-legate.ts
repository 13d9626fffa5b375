import { setMaxListeners } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { configSchema } from '../src/config/schema.js';
import { Runtime } from '../src/runtime.js';
import { operator } from '../src/tasks/caller.js';
import { MemoryTaskStore } from '../src/tasks/store/memory-store.js';
import { SqliteTaskStore } from '../src/tasks/store/sqlite/sqlite-store.js';
import { startTracing } from '../src/telemetry/start-tracing.js';
import type { Tracing } from '../src/telemetry/tracing.js';
import { executeToolCall } from '../src/tools/execute.js';
import { benchKey, benchModel, flags, report, scratchDir, startModelServer } from './common.js';
import type { FanoutResult } from './fanout-result.js';
import { measureFanout } from './fanout-window.js';
import { type OtlpSinkHandle, startOtlpSink } from './otlp-sink.js';
import { type RedisWindow, redisStats } from './redis-stats.js';
import { openSharedRuntime } from './shared-runtime.js';
import { timedStore } from './timed-store.js';

/**
 * One legate fan-out in a fresh process: the top-level agent's own tools (as its loop runs them,
 * through `executeToolCall`: JSON arguments, zod validation, JSON result) start N children with
 * `delegate_task_async` side by side, then wait for all of them with `collect_task`, as one model
 * message carrying N calls of each would. Each child makes `steps` model calls to the scripted
 * server (list_dir, list_dir, final answer), each answered after `latency` ms.
 *
 *   node bench/dist/bench/fanout-legate.js --n=100 --store=memory|sqlite|redis [--latency=200] [--steps=3] [--tracing]
 *
 * `--tracing` (`--tracing=json`: OTLP/HTTP JSON): OpenTelemetry on, exporting over OTLP/HTTP protobuf to a collector in its own
 * process (`otlp-sink.ts`); the parent's tool calls get their `execute_tool` spans as the loop's
 * events would make them, so every child's `invoke_agent` span continues the parent's trace.
 *
 * `--store=redis` is shared mode: a private redis-server, and the runtime `openRuntime` builds for
 * a config.yaml with `tasks.redis_url` (its store and dispatch, whichever they are); the store
 * calls are then not timed (`storeBusyMs` absent): a Redis store's work is mostly awaiting Redis.
 */

async function main(): Promise<void> {
  const options = flags();
  const n = Number(options.get('n') ?? 100);
  const storeKind = options.get('store') === 'sqlite' ? 'sqlite' : options.get('store') === 'redis' ? 'redis' : 'memory';
  const latencyMs = Number(options.get('latency') ?? 200);
  const steps = Number(options.get('steps') ?? 3);
  // `--sandbox=danger-full-access` leaves out the default sandbox's real-path checks (to compare with runs before it existed).
  const sandbox = options.get('sandbox');
  const warmup = Number(options.get('warmup') ?? 8);

  const server = await startModelServer({ mode: 'fanout', latencyMs, steps });
  const scratch = scratchDir();
  const rawConfig = {
    model: { provider: 'openai', name: benchModel, base_url: server.openaiBaseUrl, api_key: benchKey },
    delegation: { max_concurrent_children: Math.max(n, warmup), max_iterations: steps + 2 },
    agent: { toolsets: ['file', 'async_delegation'], ...(sandbox ? { sandbox } : {}) },
  };
  const sink: OtlpSinkHandle | undefined = options.has('tracing') ? await startOtlpSink() : undefined;
  const tracing: Tracing | undefined = sink
    ? await startTracing(
        undefined,
        { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, ...(options.get('tracing') === 'json' ? { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } : {}) },
        (line) => process.stderr.write(`tracing: ${line}\n`),
      )
    : undefined;
  const home = join(scratch.dir, 'home');
  mkdirSync(home, { recursive: true });
  const shared = storeKind === 'redis' ? await openSharedRuntime({ home, cwd: scratch.dir, config: rawConfig }) : undefined;
  const timed = timedStore(storeKind === 'sqlite' ? SqliteTaskStore.open(join(home, 'state.db')) : new MemoryTaskStore());
  const runtime =
    shared?.runtime ??
    new Runtime({
      loaded: { config: configSchema.parse(rawConfig), file: undefined, home, unset: new Map() },
      cwd: scratch.dir,
      store: timed.store,
      ...(tracing ? { tracing } : {}),
    });
  const parentTrace = runtime.tracing.startAgent({ name: 'legate', agentId: 's_bench', conversationId: 's_bench', provider: 'openai', model: benchModel });
  const tools = runtime.toolsFor({ sessionId: 's_bench', depth: 0, toolsets: ['file', 'async_delegation'] });
  const toolsByName = new Map(tools.map((tool) => [tool.name, tool]));
  // The parent's turn signal, shared by all its tool calls, set up as runAgentLoop sets it up.
  const signal = new AbortController().signal;
  setMaxListeners(0, signal);
  const context = { cwd: scratch.dir, signal, io: runtime.io };
  let callIds = 0;
  const call = async (name: string, args: object): Promise<Record<string, unknown>> => {
    const id = `call_${++callIds}`;
    const started = Date.now();
    const argumentsText = JSON.stringify(args);
    // The events the loop emits around each tool call: what tracing observes.
    parentTrace.observe({ type: 'tool.started', callId: id, name, arguments: argumentsText });
    const result = await executeToolCall(toolsByName, { id, name, arguments: argumentsText }, context);
    parentTrace.observe({ type: 'tool.finished', callId: id, name, content: result.content, isError: result.isError, durationMs: Date.now() - started });
    if (result.isError) throw new Error(`${name} failed: ${result.content}`);
    return JSON.parse(result.content) as Record<string, unknown>;
  };
  const fanOut = async (count: number, label: string): Promise<Record<string, unknown>[]> => {
    const spawned = await Promise.all(
      Array.from({ length: count }, (_, index) =>
        call('delegate_task_async', { goal: `${label} ${index}: list the working directory and report what is in it`, toolsets: ['file'] }),
      ),
    );
    return Promise.all(spawned.map((task) => call('collect_task', { task_id: task.task_id, timeout: 600 })));
  };

  // The warm-up's spans are exported before the window, as its model calls are made: the window pays no first-export costs.
  const warmedFanOut = async (count: number, label: string): Promise<Record<string, unknown>[]> => {
    const done = await fanOut(count, label);
    if (label === 'warm-up') await runtime.tracing.flush();
    return done;
  };
  const stats = shared ? redisStats(shared.redis.url) : undefined;
  const { value: collected, window } = await measureFanout(warmedFanOut, {
    n,
    warmup,
    profile: options.get('profile'),
    afterWarmup: () => server.reset(),
    beforeWindow: async () => {
      timed.reset();
      await stats?.reset();
    },
  });
  const redis: RedisWindow | undefined = await stats?.read();
  stats?.close();
  const storeBusyMs = timed.busyUs() / 1000;
  const storeCalls = timed.calls();
  // The spans of the window still queued (legate's batches wait for the burst to end): their export, measured apart.
  const flushBefore = process.cpuUsage();
  await runtime.tracing.flush();
  const flushUsage = process.cpuUsage(flushBefore);
  const flushCpuMs = (flushUsage.user + flushUsage.system) / 1000;

  const failures = collected
    .filter((task) => task.status !== 'completed' || task.api_calls !== steps)
    .map((task) => `${String(task.task_id)}: ${String(task.status)} ${String(task.error ?? '')} api_calls=${String(task.api_calls)}`);
  const retries = collected.filter((task) => String(task.output ?? '').includes('↻ retry')).length;
  const sample = collected[0]?.task_id as string | undefined;
  const checkpoint = sample ? await runtime.tasks.checkpoint(operator, sample) : { messages: [] };
  const messageBytesPerTask = Buffer.byteLength(JSON.stringify(checkpoint.messages));
  const serverStats = await server.stats();
  parentTrace.end(undefined);
  if (shared) await shared.close();
  else await runtime.close();
  if (shared) await timed.store.close();
  await server.close();
  const exported = sink ? await sink.stats() : undefined;
  await sink?.close();
  scratch.dispose();

  const result: FanoutResult = {
    kind: 'fanout',
    impl: 'legate',
    store: storeKind,
    n,
    steps,
    latencyMs,
    idealMs: steps * latencyMs,
    completed: collected.length - failures.length,
    failures: failures.slice(0, 5),
    retries,
    messageBytesPerTask,
    ...window,
    ...(!shared && { storeBusyMs, storeCalls }),
    ...(redis && { redis: { ...redis, callsPerStep: redis.totalCalls / (n * steps), cpuMsPerStep: redis.cpuMs / (n * steps) } }),
    server: serverStats,
    ...(exported ? { tracing: { exportRequests: exported.requests, exportBytes: exported.bytes, flushCpuMs } } : {}),
  };
  await report(result);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
