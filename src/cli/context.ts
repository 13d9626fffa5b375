import { loadConfig, type LoadedConfig } from '../config/load.js';
import { join } from 'node:path';
import { Runtime, type RuntimeOptions } from '../runtime.js';
import { SqliteTaskStore } from '../tasks/store/sqlite-store.js';

/** Options every command takes. */
export interface GlobalOptions {
  config?: string;
  cwd?: string;
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
 * The runtime a command works with: config, and the resources it opens (the task store; MCP
 * servers). `runtime.close()` releases them all.
 */
export async function openRuntime(options: GlobalOptions, streams: Streams, extra: Partial<RuntimeOptions> = {}): Promise<Runtime> {
  const loaded = loadFor(options, streams);
  const store = extra.store ?? SqliteTaskStore.open(join(loaded.home, 'state.db'));
  try {
    const pruneDays = loaded.config.tasks.prune_after_days;
    if (pruneDays > 0) await store.prune(Date.now() - pruneDays * 86_400_000);
    return new Runtime({ loaded, cwd: options.cwd ?? process.cwd(), ...extra, store });
  } catch (error) {
    await store.close();
    throw error;
  }
}
