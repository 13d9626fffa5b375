import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { Runtime } from '../../src/runtime.js';
import { isTerminal } from '../../src/tasks/status.js';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import { operator } from '../../src/tasks/task-service.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { executeToolCall, type ToolCallResult } from '../../src/tools/execute.js';
import { toToolSpec } from '../../src/tools/tool-spec.js';
import { sandboxedIO } from '../tools/tool-harness.js';
import { type JunkKind, junkArguments, prng, SANDBOX_FILES, STRINGS } from './junk.js';

/**
 * Thousands of junk argument payloads for EVERY tool the top-level agent has: the file tools (real
 * files confined to a sandbox), the terminal (a fake shell: junk is never run) and the seven
 * delegation tools bound to a real TaskService on SQLite, whose children a scripted server
 * answers at once. Every call yields a result, none throws, nothing crashes, and afterwards every
 * task has ended and every steer was delivered or missed.
 */

// 150 calls a tool (about 2,500 in all): the suite budget (npm test under 5 min on 2 cores) over more of the same junk.
const PER_TOOL = 150;
const CONCURRENCY = 16;
const SESSION = 's_fuzz00000000';
const delegationTools = ['delegate_task', 'delegate_task_async', 'check_task', 'steer_task', 'collect_task', 'cancel_task', 'list_tasks'];
const OTHER_SESSION = 's_other0000000';

let server: ScriptedServer | undefined;
let runtime: Runtime | undefined;
const dirs: string[] = [];
/** Anything that escaped as an unhandled rejection or exception while the fuzz ran. */
const crashes: unknown[] = [];
const onCrash = (error: unknown): void => void crashes.push(error);
afterEach(async () => {
  process.off('unhandledRejection', onCrash);
  process.off('uncaughtException', onCrash);
  await runtime?.close();
  await server?.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** What a parsed payload is, to know which results MUST be errors. */
function shapeOf(text: string): 'invalid_json' | 'not_an_object' | 'object' {
  if (text.trim() === '') return 'object';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'invalid_json';
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? 'object' : 'not_an_object';
}

/** An error result reads `code: message`, whether the executor or a delegation operation refused. */
function isWellFormedError(content: string): boolean {
  return /^[a-z_]+: /.test(content);
}

describe('fuzz: junk arguments for every tool of the top-level agent', () => {
  it(`${PER_TOOL} payloads per tool: each gets a result, none throws, no task or steer left hanging`, async () => {
    server = await startScriptedServer({
      handler: (request) =>
        request.text.includes('OTHER-SESSION-TASK')
          ? { delayMs: 4000, text: 'other session done' }
          : { delayMs: 50 + (request.index % 7) * 50, text: 'fuzz child done' },
    });
    const root = tempDir('legate-fuzz-root-');
    const home = tempDir('legate-fuzz-home-');
    const config = configSchema.parse({
      model: { provider: 'openai', name: 'fuzz-model', base_url: server.openaiBaseUrl, api_key: 'sk-test-fuzz-0001', max_retries: 0 },
      delegation: { max_concurrent_children: 50, routes: { cheap: { model: 'cheap-model' } } },
      // web_fetch gets junk too; any URL that parses is refused by the domain rules before a lookup (no network here).
      web: { allowed_domains: ['fuzz.invalid'] },
    });
    for (const file of SANDBOX_FILES.filter((name) => !['.', 'x', 'x/y'].includes(name))) {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), STRINGS.join('\n'));
    }
    runtime = new Runtime({
      loaded: { config, file: undefined, home, unset: new Map() },
      cwd: root,
      io: sandboxedIO(root),
      store: SqliteTaskStore.open(join(home, 'state.db')),
    });

    const other = await runtime.tasks.spawn({
      goal: 'OTHER-SESSION-TASK',
      model: 'fuzz-model',
      depth: 1,
      sessionId: OTHER_SESSION,
      mode: 'async',
      cwd: root,
      toolsets: [],
    });
    const tools = runtime.toolsFor({ sessionId: SESSION, depth: 0, toolsets: runtime.agentToolsets });
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    expect([...byName.keys()].sort()).toEqual(
      [
        'cancel_task',
        'check_task',
        'collect_task',
        'delegate_task',
        'delegate_task_async',
        'edit_file',
        'list_dir',
        'list_tasks',
        'read_file',
        'search_files',
        'steer_task',
        'terminal',
        'web_fetch',
        'write_file',
      ].sort(),
    );

    process.on('unhandledRejection', onCrash);
    process.on('uncaughtException', onCrash);

    const ownIds = new Set<string>();
    const idPool = (): string[] => [other.id, 't_00000000', 't_ffffffff', ...ownIds];
    const random = prng(20_250_107);
    const schemas = new Map(tools.map((tool) => [tool.name, toToolSpec(tool).parameters]));
    const stats = {
      calls: 0,
      errors: 0,
      thrown: 0,
      byKind: new Map<JunkKind, number>(),
      errorsByTool: new Map<string, number>(),
      okByTool: new Map<string, number>(),
    };

    // CONCURRENCY workers take the next call as they finish: tools round-robin, PER_TOOL calls each.
    const order = Array.from({ length: PER_TOOL }, () => tools.map((tool) => tool.name)).flat();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < order.length) {
          const position = next++;
          const name = order[position]!;
          const id = `fuzz_${position}`;
          const { kind, text } = junkArguments({ random, taskIds: idPool }, schemas.get(name)!);
          let result: ToolCallResult;
          try {
            result = await executeToolCall(byName, { id, name, arguments: text }, { cwd: root, signal: new AbortController().signal, io: runtime!.io });
          } catch (error) {
            stats.thrown += 1;
            throw new Error(`${name} threw on ${kind} payload ${JSON.stringify(text.slice(0, 120))}: ${String(error)}`);
          }
          stats.calls += 1;
          stats.byKind.set(kind, (stats.byKind.get(kind) ?? 0) + 1);
          const where = `${name} (${kind}) ${JSON.stringify(text.slice(0, 120))} → ${result.content.slice(0, 200)}`;
          expect(typeof result.content, where).toBe('string');
          expect(typeof result.isError, where).toBe('boolean');
          expect(result.content.length, where).toBeLessThan(21_000);
          const shape = shapeOf(text);
          if (shape === 'invalid_json') expect(result.content, where).toMatch(new RegExp(`^invalid_arguments: arguments for ${name} are not valid JSON`));
          if (shape === 'not_an_object' || kind === 'deep') {
            expect(result.isError, where).toBe(true);
            expect(result.content, where).toMatch(/^invalid_arguments: /);
          }
          if (result.isError) {
            stats.errors += 1;
            stats.errorsByTool.set(name, (stats.errorsByTool.get(name) ?? 0) + 1);
            expect(isWellFormedError(result.content), where).toBe(true);
          } else {
            stats.okByTool.set(name, (stats.okByTool.get(name) ?? 0) + 1);
            if (delegationTools.includes(name)) expect(() => JSON.parse(result.content), where).not.toThrow();
          }
          for (const match of result.content.matchAll(/"task_id":"(t_[0-9a-f]{8})"/g)) if (match[1] !== other.id) ownIds.add(match[1]!);
        }
      }),
    );

    // No prototype was polluted by `__proto__` / `constructor` keys.
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);

    // Every task ends (wait them out); none is left queued or running, no steer left queued.
    const all = await runtime.tasks.list(operator);
    for (const task of all.filter((task) => !isTerminal(task.status))) await runtime.tasks.waitForEnd(operator, task.id, 30_000);
    const after = await runtime.tasks.list(operator);
    const open = after.filter((task) => !isTerminal(task.status));
    expect(open.map((task) => `${task.id} ${task.status}`)).toEqual([]);
    const queuedSteers = (await Promise.all(after.map(async (task) => (await runtime!.tasks.trail(operator, task.id)).steers)))
      .flat()
      .filter((steer) => steer.state === 'queued');
    expect(queuedSteers).toEqual([]);

    // The other session's task was never reached: not steered, not cancelled, not collected.
    const otherAfter = await runtime.tasks.get(operator, other.id);
    expect(otherAfter.status).toBe('completed');
    expect(otherAfter.reported).toBe(false);
    expect((await runtime.tasks.trail(operator, other.id)).steers).toEqual([]);

    expect(crashes).toEqual([]);
    expect(stats.thrown).toBe(0);
    expect(stats.calls).toBe(PER_TOOL * tools.length);
    expect(stats.calls).toBeGreaterThanOrEqual(2000);
    // Most junk is refused, and every tool refused some.
    expect(stats.errors).toBeGreaterThan(stats.calls / 2);
    for (const tool of tools) expect(stats.errorsByTool.get(tool.name) ?? 0, tool.name).toBeGreaterThan(PER_TOOL / 4);
    // The junk reached real tasks: children were spawned, steered (some steers delivered) and cancelled.
    // (Loose bounds: how many junk calls land on a still-running task depends on timing; tool arguments
    // are strict since issue 27, so junk with an unknown key spawns nothing: 46 tasks at 300 calls a tool, 20 at 150.)
    expect(after.length).toBeGreaterThan(10);
    for (const name of delegationTools) expect(stats.okByTool.get(name) ?? 0, name).toBeGreaterThan(3);
    const steers = (await Promise.all(after.map(async (task) => (await runtime!.tasks.trail(operator, task.id)).steers))).flat();
    expect(steers.filter((steer) => steer.state === 'delivered').length).toBeGreaterThan(0);
    expect(after.filter((task) => task.status === 'cancelled').length).toBeGreaterThan(2);
    if (process.env.FUZZ_STATS)
      console.log({
        ...stats,
        byKind: Object.fromEntries(stats.byKind),
        errorsByTool: Object.fromEntries(stats.errorsByTool),
        okByTool: Object.fromEntries(stats.okByTool),
        steers: steers.reduce<Record<string, number>>((count, steer) => ({ ...count, [steer.state]: (count[steer.state] ?? 0) + 1 }), {}),
        tasks: after.length,
        statuses: after.reduce<Record<string, number>>((count, task) => ({ ...count, [task.status]: (count[task.status] ?? 0) + 1 }), {}),
      });
  }, 180_000);
});
