import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { executeToolCall, type ToolCallResult } from '../../src/tools/execute.js';
import { createNodeIO } from '../../src/tools/node-io.js';
import type { Tool } from '../../src/tools/tool.js';
import { builtinToolsets } from '../../src/tools/toolsets.js';

const created: string[] = [];

/** A fresh temp directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'legate-tools-'));
  created.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

export const builtinTools: ReadonlyMap<string, Tool> = new Map(
  builtinToolsets().flatMap((toolset) => toolset.tools.map((tool) => [tool.name, tool] as const)),
);

/** Call a built-in tool through the real boundary; `args` is an object or raw argument text. */
export function callTool(
  cwd: string,
  name: string,
  args: unknown,
  signal: AbortSignal = new AbortController().signal,
): Promise<ToolCallResult> {
  const raw = typeof args === 'string' ? args : JSON.stringify(args);
  return executeToolCall(builtinTools, { id: 'call_1', name, arguments: raw }, { cwd, signal, io: createNodeIO() });
}
