import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { onTestFinished } from 'vitest';
import { runCommand } from '../../src/cli/run.js';
import { configSchema } from '../../src/config/schema.js';
import { Runtime, type RuntimeOptions } from '../../src/runtime.js';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import { type ScriptedServer, type ScriptedServerOptions, startScriptedServer } from '../../src/testing/scripted-server.js';
import { executeToolCall } from '../../src/tools/execute.js';
import type { Tool } from '../../src/tools/tool.js';

export type Wire = 'openai' | 'anthropic';

/**
 * The scripted model server for the current test, closed when the test finishes (after the
 * runtimes made on it: `onTestFinished` hooks run newest first).
 */
export async function useScriptedServer(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const server = await startScriptedServer(options);
  onTestFinished(() => server.close());
  return server;
}

/** The base URL of `server` for `wire`. */
export function baseUrlFor(server: ScriptedServer, wire: Wire): string {
  return wire === 'openai' ? server.openaiBaseUrl : server.anthropicBaseUrl;
}

/**
 * A runtime whose model (`m`, on `wire`) is the scripted server, in a temp working directory, on a
 * memory store unless `options.store` says otherwise; closed (and its directory removed) when the
 * test finishes. `config` is config.yaml's content: its `model` keys extend the scripted model's.
 */
export function runtimeOnScripted(
  server: ScriptedServer,
  wire: Wire = 'openai',
  config: Record<string, unknown> = {},
  options: Partial<RuntimeOptions> = {},
): Runtime {
  const cwd = mkdtempSync(join(tmpdir(), 'legate-scripted-'));
  // LEGATE_HOME apart from the working directory: no tool may read or write legate's home.
  const home = mkdtempSync(join(tmpdir(), 'legate-scripted-home-'));
  const { model, ...rest } = config as { model?: Record<string, unknown> };
  const parsed = configSchema.parse({
    model: { provider: wire, name: 'm', base_url: baseUrlFor(server, wire), api_key: 'sk-test-scripted-0001', max_retries: 0, ...model },
    ...rest,
  });
  const runtime = new Runtime({ loaded: { config: parsed, file: undefined, home, unset: new Map() }, cwd, store: new MemoryTaskStore(), ...options });
  onTestFinished(async () => {
    await runtime.close();
    rmSync(cwd, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });
  return runtime;
}

/**
 * The top-level agent's tools on `runtime` (session `sessionId`), called as the loop calls them:
 * `call(name, args)` returns the parsed JSON result and throws the error text of a failed call.
 */
export function toolCaller(runtime: Runtime, sessionId: string): (name: string, args: unknown) => Promise<any> {
  const tools = new Map<string, Tool>(runtime.toolsFor({ sessionId, depth: 0, toolsets: runtime.agentToolsets }).map((tool) => [tool.name, tool]));
  return async (name, args) => {
    const result = await executeToolCall(
      tools,
      { id: `call_${name}`, name, arguments: JSON.stringify(args) },
      { cwd: runtime.cwd, io: runtime.io, signal: new AbortController().signal },
    );
    if (result.isError) throw new Error(result.content);
    return JSON.parse(result.content);
  };
}

/** `legate run --json` in this process on `runtime`: its exit code and its parsed JSON result (`reasoning`: `--reasoning`). */
export async function runJsonOn(runtime: Runtime, prompt = 'go', options: { reasoning?: boolean } = {}): Promise<{ code: number; json: any }> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await runCommand(prompt, { json: true, ...options }, { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {} }, runtime);
  return { code, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
}
