import { loadConfig, type LoadedConfig } from '../config/load.js';
import { join } from 'node:path';
import { Runtime, type RuntimeOptions } from '../runtime.js';
import { SqliteTaskStore } from '../tasks/store/sqlite-store.js';
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
  const store = extra.store ?? SqliteTaskStore.open(join(loaded.home, 'state.db'));
  let mcp: McpToolsets = { toolsets: [], connections: [] };
  try {
    const pruneDays = loaded.config.tasks.prune_after_days;
    if (pruneDays > 0) await store.prune(Date.now() - pruneDays * 86_400_000);
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
