import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { Runtime } from '../../src/runtime.js';
import { Session } from '../../src/session.js';
import { operator } from '../../src/tasks/caller.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { childWith, isParent, lastToolResults } from '../helpers/script.js';

/**
 * Children inherit the parent's sandbox and can only be narrowed: by the `sandbox` argument of
 * delegate_task / delegate_task_async, or by their route's `sandbox`. Asking for a wider mode is
 * an error naming both modes, at every depth. Through the real runtime, loop and OpenAI wire.
 */
let server: ScriptedServer;
let runtime: Runtime | undefined;
let root: string;
afterEach(async () => {
  await runtime?.close();
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

/** A delegation refusal's text, whether the tool result is `{error, code}` JSON or a plain `code: message`. */
function refusal(result: unknown): string {
  return typeof result === 'string' ? result : String((result as { error?: unknown }).error);
}

function start(extra: Record<string, unknown>, sandbox?: 'read-only' | 'workspace-write' | 'danger-full-access'): { ws: string } {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'legate-sandbox-children-')));
  const ws = join(root, 'ws');
  const home = join(root, 'home');
  mkdirSync(ws);
  mkdirSync(home);
  const config = configSchema.parse({ model: { provider: 'openai', name: 'm', base_url: server.openaiBaseUrl, api_key: 'sk-test-sandbox-0001' }, ...extra });
  runtime = new Runtime({ loaded: { config, file: undefined, home, unset: new Map() }, cwd: ws, ...(sandbox ? { sandbox } : {}) });
  return { ws };
}

describe('children and the sandbox', () => {
  it('a child given a narrower mode runs in it; a wider one is refused naming both modes, also for a grandchild', async () => {
    server = await startScriptedServer();
    server.enqueue(
      {
        match: (request) => isParent(request) && !request.text.includes('sandbox_wider') && !request.text.includes('RO-CHILD done'),
        reply: {
          toolCalls: [
            { name: 'delegate_task', arguments: { goal: 'RO-CHILD', sandbox: 'read-only' } },
            { name: 'delegate_task_async', arguments: { goal: 'WIDE-CHILD', sandbox: 'danger-full-access' } },
          ],
        },
      },
      { match: isParent, reply: { text: 'parent done' } },
      {
        match: (request) => childWith('RO-CHILD')(request) && !request.text.includes('refused'),
        reply: {
          toolCalls: [
            { name: 'write_file', arguments: { path: 'child.txt', content: 'x' } },
            { name: 'delegate_task', arguments: { goal: 'GRANDCHILD', sandbox: 'workspace-write' } },
          ],
        },
      },
      { match: childWith('RO-CHILD'), reply: { text: 'RO-CHILD done' } },
    );
    const { ws } = start({ delegation: { max_spawn_depth: 2 } });
    expect(runtime!.sandboxMode).toBe('workspace-write');
    const session = new Session(runtime!);
    const result = await session.turn('go');
    expect(result.final).toBe('parent done');

    const childSecond = server.requests.filter(childWith('RO-CHILD'))[1]!;
    const [write, grandchild] = lastToolResults(childSecond);
    expect(write).toBe(
      `tool_failed: write_file: sandbox_denied: write to ${join(ws, 'child.txt')} refused in read-only mode: no tool may write ` +
        `(choose --sandbox workspace-write to write in the working directory)`,
    );
    expect(refusal(grandchild)).toContain(`sandbox "workspace-write" is wider than this agent's own "read-only"`);
    expect(existsSync(join(ws, 'child.txt'))).toBe(false);

    const parentSecond = server.requests.filter(isParent)[1]!;
    const [, wide] = lastToolResults(parentSecond);
    expect(refusal(wide)).toBe(
      `sandbox_wider: sandbox "danger-full-access" is wider than this agent's own "workspace-write": ` +
        `a child gets the same mode or a narrower one (read-only, workspace-write)`,
    );
    const tasks = await runtime!.tasks.list(operator);
    expect(tasks.map((task) => [task.goal, task.sandbox])).toEqual([['RO-CHILD', 'read-only']]);
  });

  it("a route's sandbox caps its children; a child without one inherits the parent's mode", async () => {
    server = await startScriptedServer();
    server.enqueue(
      {
        match: (request) => isParent(request) && !request.text.includes('"results"'),
        reply: { toolCalls: [{ name: 'delegate_task', arguments: { tasks: [{ goal: 'ROUTED', route: 'safe' }, { goal: 'PLAIN' }] } }] },
      },
      { match: isParent, reply: { text: 'ok' } },
      {
        match: (request) => childWith('ROUTED')(request) && !request.text.includes('tool_failed'),
        reply: { toolCalls: [{ name: 'write_file', arguments: { path: 'routed.txt', content: 'x' } }] },
      },
      { match: childWith('ROUTED'), reply: { text: 'routed done' } },
      {
        match: (request) => childWith('PLAIN')(request) && !request.text.includes('plain.txt'),
        reply: { toolCalls: [{ name: 'write_file', arguments: { path: 'plain.txt', content: 'x' } }] },
      },
      { match: childWith('PLAIN'), reply: { text: 'plain done' } },
    );
    const { ws } = start({ delegation: { routes: { safe: { model: 'm', sandbox: 'read-only' } } } }, 'workspace-write');
    await new Session(runtime!).turn('go');
    expect(existsSync(join(ws, 'routed.txt'))).toBe(false);
    expect(existsSync(join(ws, 'plain.txt'))).toBe(true);
    const sandboxes = Object.fromEntries((await runtime!.tasks.list(operator)).map((task) => [task.goal, task.sandbox]));
    expect(sandboxes).toEqual({ ROUTED: 'read-only', PLAIN: 'workspace-write' });
  });

  it('a task stored with a wider mode than this process runs in (a worker started with a narrower --sandbox) gets the narrower one', async () => {
    server = await startScriptedServer();
    start({}, 'read-only');
    expect(runtime!.ioFor('danger-full-access')).toBe(runtime!.io);
    expect(runtime!.ioFor(undefined)).toBe(runtime!.io);
  });
});
