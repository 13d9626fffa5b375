import { loadConfig, type LoadedConfig } from '../config/load.js';
import { join } from 'node:path';
import { LegateError } from '../errors.js';
import { Runtime, type RuntimeOptions } from '../runtime.js';
import { RedisTaskStore } from '../tasks/store/redis/redis-store.js';
import { SqliteTaskStore } from '../tasks/store/sqlite-store.js';
import type { TaskStore } from '../tasks/store/task-store.js';
import { TaskService } from '../tasks/task-service.js';
import { connectMcpServers, type McpToolsets } from '../mcp/mcp-toolsets.js';
import { parseSandboxMode } from '../sandbox/modes.js';

/** Options every command takes. */
export interface GlobalOptions {
  config?: string;
  cwd?: string;
  /** `--sandbox MODE` (run, chat, mcp, worker): overrides `agent.sandbox`. */
  sandbox?: string;
}

/** The streams a command writes to (tests pass their own). */
export interface Streams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

export function processStreams(): Streams {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

export function loadFor(options: GlobalOptions, streams: Streams): LoadedConfig {
  return loadConfig({ ...(options.config ? { configPath: options.config } : {}), env: streams.env });
}

/**
 * The runtime a command works with: config, and the resources it opens (the task store; the MCP
 * servers of `mcp_servers`, unless `mcp: false` — a server that fails costs a warning on stderr).
 * `runtime.close()` releases them all.
 */
export async function openRuntime(options: GlobalOptions, streams: Streams, extra: Partial<RuntimeOptions> & { mcp?: boolean } = {}): Promise<Runtime> {
  const { mcp: connectMcp = true, ...runtimeOptions } = extra;
  const loaded = loadFor(options, streams);
  const sandbox = options.sandbox === undefined ? undefined : parseSandboxMode(options.sandbox);
  const cwd = options.cwd ?? process.cwd();
  const store = extra.store ?? (await openStore(loaded, streams.env));
  let mcp: McpToolsets = { toolsets: [], connections: [] };
  try {
    if (connectMcp) {
      mcp = await connectMcpServers(loaded.config.mcp_servers, {
        cwd,
        warn: (line) => streams.stderr.write(`legate: warning: ${line}\n`),
        info: (line) => streams.stderr.write(`legate: ${line}\n`),
      });
    }
    return new Runtime({
      loaded,
      cwd,
      ...(sandbox ? { sandbox } : {}),
      ...runtimeOptions,
      store,
      extraToolsets: [...(extra.extraToolsets ?? []), ...mcp.toolsets],
      resources: [...(extra.resources ?? []), ...mcp.connections],
    });
  } catch (error) {
    await store.close();
    await Promise.all(mcp.connections.map((connection) => connection.close().catch(() => {})));
    throw error;
  }
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
 * be reached), else `loaded`'s LEGATE_HOME; tasks older than `tasks.prune_after_days` pruned.
 */
async function openStore(loaded: LoadedConfig, env: NodeJS.ProcessEnv): Promise<TaskStore> {
  const url = sharedStoreUrl(loaded.config, env);
  const store = url === undefined
    ? SqliteTaskStore.open(join(loaded.home, 'state.db'))
    // Opening fails at the first refused or timed-out connection; once open, a command waits
    // through reconnections (ioredis' default, about 20 s) so that a worker outlives a Redis blip.
    : await RedisTaskStore.open({ url, prefix: loaded.config.tasks.redis_prefix, connectTimeoutMs: 3_000 });
  try {
    const pruneDays = loaded.config.tasks.prune_after_days;
    if (pruneDays > 0) await store.prune(Date.now() - pruneDays * 86_400_000);
    return store;
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** What commands that only read and manage stored tasks work with: no model, so no API key. */
export interface TaskDesk {
  tasks: TaskService;
  cwd: string;
  config: LoadedConfig['config'];
  close(): Promise<void>;
}

/**
 * The task service of this LEGATE_HOME without a runtime: `tasks list/show/collect/steer/cancel`
 * need no endpoint and no key. It cannot run a task (`legate tasks resume` and `worker` open a
 * runtime).
 */
export async function openTaskDesk(options: GlobalOptions, streams: Streams): Promise<TaskDesk> {
  const loaded = loadFor(options, streams);
  const store = await openStore(loaded, streams.env);
  const tasks = new TaskService({
    store,
    maxConcurrent: loaded.config.delegation.max_concurrent_children,
    runner: {
      run: (task) => Promise.reject(new LegateError('invalid_arguments', `task "${task.id}" cannot run in a process that only reads tasks`)),
    },
  });
  return {
    tasks,
    cwd: options.cwd ?? process.cwd(),
    config: loaded.config,
    close: async () => {
      await tasks.shutdown();
      await store.close();
    },
  };
}
