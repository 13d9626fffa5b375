import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { AgentEvent, RunResult } from '../../src/agent/events.js';
import { type LoopOptions, runAgentLoop } from '../../src/agent/loop.js';
import { CredentialPool } from '../../src/provider/credential-pool.js';
import { createProvider, type WireName } from '../../src/provider/registry.js';
import type { Provider } from '../../src/provider/types.js';
import { type ScriptedServer, type ScriptedStep, startScriptedServer } from '../../src/testing/scripted-server.js';
import { createNodeIO } from '../../src/tools/node-io.js';
import type { Tool } from '../../src/tools/tool.js';
import { builtinToolsets } from '../../src/tools/toolsets.js';

const servers: ScriptedServer[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A scripted model server, closed after the test. */
export async function scriptedServer(steps: ScriptedStep[] = []): Promise<ScriptedServer> {
  const server = await startScriptedServer({ steps });
  servers.push(server);
  return server;
}

/** A fresh work directory, removed after the test. */
export async function workDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'legate-loop-'));
  dirs.push(dir);
  return dir;
}

/** The real provider for `wire` pointed at the scripted server: real SDK, real socket, no retries. */
export function providerFor(server: ScriptedServer, wire: WireName = 'openai'): Provider {
  return createProvider({
    provider: wire,
    baseUrl: wire === 'openai' ? server.openaiBaseUrl : server.anthropicBaseUrl,
    pool: new CredentialPool({ keys: ['sk-test-loop-0001'] }),
    maxAttempts: 1,
  });
}

export const builtinTools: Tool[] = builtinToolsets().flatMap((toolset) => toolset.tools);

export interface LoopRun {
  result: RunResult;
  events: AgentEvent[];
}

/** `runAgentLoop` over the scripted server with the built-in tools, collecting every event. */
export async function runLoop(server: ScriptedServer, options: Partial<LoopOptions> & { wire?: WireName; prompt?: string } = {}): Promise<LoopRun> {
  const events: AgentEvent[] = [];
  const { wire, prompt, ...rest } = options;
  const result = await runAgentLoop({
    provider: providerFor(server, wire),
    model: 'loop-model',
    system: 'You are a test agent.',
    messages: [{ role: 'user', content: prompt ?? 'do the task' }],
    tools: builtinTools,
    cwd: rest.cwd ?? (await workDir()),
    io: createNodeIO(),
    maxIterations: 10,
    signal: new AbortController().signal,
    ...rest,
    emit: (event) => {
      events.push(event);
      rest.emit?.(event);
    },
  });
  return { result, events };
}

/** The text of the tool results in a recorded request (both wires), for `includes` checks. */
export function toolResultsIn(body: any): string[] {
  const results: string[] = [];
  for (const message of body?.messages ?? []) {
    if (message.role === 'tool') results.push(String(message.content));
    if (Array.isArray(message.content)) {
      for (const part of message.content) {
        if (part?.type !== 'tool_result') continue;
        results.push(typeof part.content === 'string' ? part.content : (part.content ?? []).map((inner: any) => inner?.text ?? '').join(''));
      }
    }
  }
  return results;
}
