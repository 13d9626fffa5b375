import { join } from 'node:path';
import { BudgetLedger } from '../budget/budget-ledger.js';
import { resolveEndpoints } from '../config/endpoints.js';
import { type LoadedConfig, loadConfig } from '../config/load.js';
import { costFromPrices } from '../delegation/usage-view.js';
import { LegateError } from '../errors.js';
import type { McpToolsets } from '../mcp/mcp-toolsets.js';
import { Runtime, type RuntimeOptions } from '../runtime.js';
import { parseSandboxMode } from '../sandbox/modes.js';
import { maskKey } from '../secrets.js';
import { oneLine } from '../tasks/output-lines.js';
import type { SharedDispatch } from '../tasks/shared/shared-dispatch.js';
import type { SessionStore } from '../tasks/store/session-store.js';
import { SqliteTaskStore } from '../tasks/store/sqlite/sqlite-store.js';
import type { TaskStore } from '../tasks/store/task-store.js';
import { TaskService } from '../tasks/task-service.js';
import { startTracing } from '../telemetry/start-tracing.js';
import type { Tracing } from '../telemetry/tracing.js';
import { WorktreeManager } from '../worktrees/worktree-manager.js';
import { type CommandLog, silentLog } from './command-log.js';

/** Options every command takes. */
export interface GlobalOptions {
  config?: string;
  cwd?: string;
  /** `--sandbox MODE` (run, chat, mcp, acp, worker): overrides `agent.sandbox`. */
  sandbox?: string;
  /** Extra detail on stderr (config file, endpoints with masked keys, each model call and retry). */
  verbose?: boolean;
}

/** The streams a command writes to (tests pass their own). */
export interface Streams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  /** The command's log (`--verbose` detail and the log file); none: nothing is logged. */
  log?: CommandLog;
}

/** The command's log, or one that writes nowhere. */
export function logOf(streams: Streams): CommandLog {
  return streams.log ?? silentLog;
}

export function processStreams(): Streams {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

export function loadFor(options: GlobalOptions, streams: Streams): LoadedConfig {
  const loaded = loadConfig({ ...(options.config ? { configPath: options.config } : {}), env: streams.env });
  const log = logOf(streams);
  log.detail(`config: ${loaded.file ?? '(no config file: using the environment)'}; LEGATE_HOME ${loaded.home}`);
  try {
    const endpoints = resolveEndpoints(loaded);
    const all = [
      ['parent', endpoints.parent],
      ['children', endpoints.child],
      ...[...endpoints.routes].map(([name, route]) => [`route ${name}`, route] as const),
    ] as const;
    for (const [, endpoint] of all) log.addSecrets(endpoint.keys);
    for (const [label, endpoint] of all) {
      log.detail(`endpoint ${label}: ${endpoint.provider} ${endpoint.model} at ${endpoint.baseUrl}; keys ${endpoint.keys.map(maskKey).join(', ') || '(none)'}`);
    }
  } catch {
    // No usable endpoint (no key): commands that need one say so when they build the runtime.
  }
  return loaded;
}

/**
 * The runtime a command works with: config, and the resources it opens (the task store; the MCP
 * servers of `mcp_servers`, unless `mcp: false` — a server that fails costs a warning on stderr).
 * `runtime.close()` releases them all.
 */
export async function openRuntime(
  options: GlobalOptions,
  streams: Streams,
  extra: Partial<RuntimeOptions> & {
    mcp?: boolean;
    modelName?: string;
    /** Shared mode: spawned tasks go on the BullMQ queues (`legate worker`) instead of running here; ignored without shared mode. */
    queueSpawns?: boolean;
    /** `--dispatch-only`: as `queueSpawns`, and an error (`invalid_arguments`) without shared mode. */
    dispatchOnly?: boolean;
    /** Receives shared mode's parts (a worker starts its queue workers on them); untouched without shared mode. */
    shared?: { dispatch?: SharedDispatch };
  } = {},
): Promise<Runtime> {
  const { mcp: connectMcp = true, modelName, queueSpawns = false, dispatchOnly = false, shared: sharedOut, ...runtimeOptions } = extra;
  const log = logOf(streams);
  const read = loadFor(options, streams);
  if (dispatchOnly && sharedStoreUrl(read.config, streams.env) === undefined) {
    throw new LegateError(
      'invalid_arguments',
      '--dispatch-only needs shared mode: set tasks.redis_url in config.yaml or LEGATE_REDIS_URL (without it there are no workers elsewhere to run the tasks)',
    );
  }
  // `--model NAME` replaces `model.name` (so also the children's model when `delegation.model` is empty).
  const loaded = modelName ? { ...read, config: { ...read.config, model: { ...read.config.model, name: modelName } } } : read;
  if (modelName) log.detail(`model: ${modelName} (from --model)`);
  const sandbox = options.sandbox === undefined ? undefined : parseSandboxMode(options.sandbox);
  const cwd = options.cwd ?? process.cwd();
  const store = extra.store ?? (await openStore(loaded, streams.env, storeWarning(streams)));
  let mcp: McpToolsets = { toolsets: [], connections: [] };
  let shared: SharedDispatch | undefined;
  let tracing: Tracing | undefined;
  const warn = (line: string): void => {
    log.record(`warning: ${line}`);
    streams.stderr.write(`legate: warning: ${line}\n`);
  };
  try {
    // Loaded only when an endpoint is set: without one, the OpenTelemetry SDK is never imported.
    tracing = extra.tracing ?? (await startTracing(loaded.config.telemetry, streams.env, warn));
    shared = await openSharedDispatch(loaded, streams.env, store, queueSpawns || dispatchOnly);
    if (sharedOut && shared) sharedOut.dispatch = shared;
    if (connectMcp) {
      // Loaded on use, as Redis and BullMQ below: commands that need neither do not pay for them.
      const { connectMcpServers } = await import('../mcp/mcp-toolsets.js');
      mcp = await connectMcpServers(loaded.config.mcp_servers, {
        cwd,
        warn,
        info: (line) => {
          log.record(line);
          streams.stderr.write(`legate: ${line}\n`);
        },
      });
    }
    const runtime = new Runtime({
      loaded,
      cwd,
      env: streams.env,
      ...(sandbox ? { sandbox } : {}),
      ...runtimeOptions,
      store,
      extraToolsets: [...(extra.extraToolsets ?? []), ...mcp.toolsets],
      resources: [...(extra.resources ?? []), ...mcp.connections, ...(shared ? [shared] : [])],
      ...(shared ? { taskParts: shared.serviceOptions(), checkCapabilities: true } : {}),
      tracing,
    });
    logTasks(runtime, log);
    return runtime;
  } catch (error) {
    await tracing?.shutdown();
    await shared?.close();
    await store.close();
    await Promise.all(mcp.connections.map((connection) => connection.close().catch(() => {}))); // already failing: the first error is the one reported
    throw error;
  }
}

/** Every command that runs tasks logs their lifecycle; a child's model calls are `--verbose` detail. */
function logTasks(runtime: Runtime, log: CommandLog): void {
  runtime.tasks.subscribe((event) => {
    if (event.type === 'task.spawned')
      log.record(`task ${event.task.id} spawned (${event.task.model}, depth ${event.task.depth}): ${oneLine(event.task.goal, 120)}`);
    if (event.type === 'task.started') log.detail(`task ${event.task.id} running`);
    if (event.type === 'task.steered') log.record(`task ${event.taskId} steered: ${oneLine(event.message, 120)}`);
    if (event.type === 'task.input_required')
      log.record(`task ${event.task.id} waits for approval ${event.task.approval?.id}: ${oneLine(event.task.approval?.reason ?? '', 200)}`);
    if (event.type === 'task.activity') log.detail(`task ${event.taskId}: ${oneLine(event.activity, 120)}`);
    if (event.type === 'task.ended')
      log.record(
        `task ${event.task.id} ${event.task.status} after ${event.task.apiCalls} model call${event.task.apiCalls === 1 ? '' : 's'}` +
          `${event.task.error ? `: ${oneLine(event.task.error, 200)}` : ''}`,
      );
  });
}

/**
 * The Redis URL of shared mode: `tasks.redis_url`, else `LEGATE_REDIS_URL`; undefined when neither
 * is set (the tasks live in `$LEGATE_HOME/state.db`).
 */
export function sharedStoreUrl(config: LoadedConfig['config'], env: NodeJS.ProcessEnv): string | undefined {
  return config.tasks.redis_url ?? (env.LEGATE_REDIS_URL || undefined);
}

/**
 * The task store: Redis in shared mode (`store_unavailable` naming the masked URL when it cannot
 * be reached; `warn` is told when that Redis has lost this deployment's tasks), else `loaded`'s
 * LEGATE_HOME; tasks older than `tasks.prune_after_days` pruned.
 */
export async function openStore(loaded: LoadedConfig, env: NodeJS.ProcessEnv, warn: (line: string) => void = () => {}): Promise<TaskStore> {
  const url = sharedStoreUrl(loaded.config, env);
  const store =
    url === undefined
      ? SqliteTaskStore.open(join(loaded.home, 'state.db'))
      : // Opening fails at the first refused or timed-out connection; once open, a command waits
        // through reconnections (ioredis' default, about 20 s) so that a worker outlives a Redis blip.
        await (await import('../tasks/store/redis/redis-store.js')).RedisTaskStore.open({
          url,
          prefix: loaded.config.tasks.redis_prefix,
          connectTimeoutMs: 3_000,
          // A Redis restarted empty is said once per process that sees it, on stderr.
          seenFile: join(loaded.home, 'redis-deployments.json'),
          onReset: warn,
        });
  try {
    const pruneDays = loaded.config.tasks.prune_after_days;
    if (pruneDays > 0) await store.prune(Date.now() - pruneDays * 86_400_000);
    return store;
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** What the store has to say (a Redis that lost this deployment's tasks), on stderr and in the log. */
export function storeWarning(streams: Streams): (line: string) => void {
  return (line) => {
    logOf(streams).record(`warning: ${line}`);
    streams.stderr.write(`legate: ${line}\n`);
  };
}

/**
 * Shared mode's dispatch parts (BullMQ queues, task-end messages, leases) for a process using the
 * shared `store`; undefined without shared mode.
 */
export async function openSharedDispatch(
  loaded: LoadedConfig,
  env: NodeJS.ProcessEnv,
  store: TaskStore,
  queueSpawns: boolean,
): Promise<SharedDispatch | undefined> {
  const url = sharedStoreUrl(loaded.config, env);
  if (url === undefined) return undefined;
  const { SharedDispatch } = await import('../tasks/shared/shared-dispatch.js');
  return SharedDispatch.open({ url, prefix: loaded.config.tasks.redis_prefix, store, leaseMs: loaded.config.tasks.lease_seconds * 1000, queueSpawns });
}

/** What commands that only read and manage stored tasks work with: no model, so no API key. */
export interface TaskDesk {
  tasks: TaskService;
  sessions: SessionStore;
  /** Budgets and tree spend over the same store (`legate tasks show`, `tasks usage --tree`). */
  budgets: BudgetLedger;
  cwd: string;
  config: LoadedConfig['config'];
  /** Children's git worktrees under this LEGATE_HOME (`tasks diff`, `merge`, `prune`). */
  worktrees: WorktreeManager;
  close(): Promise<void>;
}

/**
 * The task service of this LEGATE_HOME without a runtime: `tasks list/show/collect/steer/cancel`
 * need no endpoint and no key. It cannot run a task (`legate tasks resume` and `worker` open a
 * runtime).
 */
export async function openTaskDesk(options: GlobalOptions, streams: Streams): Promise<TaskDesk> {
  const loaded = loadFor(options, streams);
  const store = await openStore(loaded, streams.env, storeWarning(streams));
  const shared = await openSharedDispatch(loaded, streams.env, store, false).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const tasks = new TaskService({
    ...shared?.serviceOptions(),
    store,
    maxConcurrent: loaded.config.delegation.max_concurrent_children,
    runner: {
      run: (task) => Promise.reject(new LegateError('invalid_arguments', `task "${task.id}" cannot run in a process that only reads tasks`)),
    },
  });
  return {
    tasks,
    sessions: store.sessions,
    budgets: new BudgetLedger(store, costFromPrices(loaded.config.prices)),
    cwd: options.cwd ?? process.cwd(),
    config: loaded.config,
    worktrees: new WorktreeManager(loaded.home),
    close: async () => {
      await tasks.shutdown();
      await shared?.close();
      await store.close();
    },
  };
}
