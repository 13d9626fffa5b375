import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { afterEach } from 'vitest';
import { executeToolCall, type ToolCallResult } from '../../src/tools/execute.js';
import { createNodeIO } from '../../src/tools/node-io.js';
import type { Tool, ToolIO } from '../../src/tools/tool.js';
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

export const builtinTools: ReadonlyMap<string, Tool> = new Map(builtinToolsets().flatMap((toolset) => toolset.tools.map((tool) => [tool.name, tool] as const)));

/** Call a built-in tool through the real boundary; `args` is an object or raw argument text. */
export function callTool(cwd: string, name: string, args: unknown, signal: AbortSignal = new AbortController().signal): Promise<ToolCallResult> {
  const raw = typeof args === 'string' ? args : JSON.stringify(args);
  return executeToolCall(builtinTools, { id: 'call_1', name, arguments: raw }, { cwd, signal, io: createNodeIO() });
}

/** Real files confined to `root`; a fake shell, so junk is never run. For the fuzz tests. */
export function sandboxedIO(root: string): ToolIO {
  const real = createNodeIO();
  const inside = (path: string): string => {
    const rel = relative(root, path);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`outside the sandbox: ${path.slice(0, 100)}`);
    return path;
  };
  return {
    readFile: (path) => real.readFile(inside(path)),
    writeFile: (path, content) => real.writeFile(inside(path), content),
    listDir: (path) => real.listDir(inside(path)),
    stat: async (path) => real.stat(inside(path)),
    mkdirp: (path) => real.mkdirp(inside(path)),
    exec: async (command) => ({ exitCode: 0, output: `fake shell: ${command.length} characters not run`, timedOut: false }),
  };
}
