import { loadConfig, type LoadedConfig } from '../config/load.js';
import { Runtime, type RuntimeOptions } from '../runtime.js';

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
  return new Runtime({ loaded, cwd: options.cwd ?? process.cwd(), ...extra });
}
