import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { LegateError } from '../../src/errors.js';
import { Runtime } from '../../src/runtime.js';
import { isTerminal } from '../../src/tasks/status.js';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import type { TaskStore } from '../../src/tasks/store/task-store.js';
import type { TaskRecord } from '../../src/tasks/task-record.js';
import { type RecordedRequest, type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import type { ToolIO } from '../../src/tools/tool.js';
import { prng } from './junk.js';

/**
 * Load: 1000 concurrent tasks in one process (real HTTP to the scripted server, 3 model calls per
 * child), a random half steered and a random quarter cancelled while in flight. At the end every
 * task is terminal (cancelled if its cancel was accepted, else completed), and every steer was
 * delivered (and the child's model saw it) or reported missed (and the model never saw it), or
 * refused at once because the task had already ended. None is lost, none left queued.
 */

const TASKS = 1000;
const SESSION = 's_load00000000';

let server: ScriptedServer | undefined;
let runtime: Runtime | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  await server?.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A file system with one empty directory and no shell: list_dir is all the children call. */
const quietIO: ToolIO = {
  readFile: async () => '',
  writeFile: async () => {},
  listDir: async () => ['a.txt', 'b/'],
  stat: async () => ({ isFile: false, isDirectory: true, size: 0 }),
  mkdirp: async () => {},
  exec: async () => ({ exitCode: 0, output: '', timedOut: false }),
};

const toolResults = (request: RecordedRequest): number =>
  ((request.body?.messages ?? []) as { role: string }[]).filter((message) => message.role === 'tool').length;

/** Each child: list_dir, list_dir, then its answer; 10–80 ms before each reply. */
function childReply(request: RecordedRequest): { delayMs: number; text?: string; toolCalls?: { name: string; arguments: unknown }[] } {
  const delayMs = 10 + (request.index % 8) * 10;
  const done = toolResults(request);
  if (done < 2) return { delayMs, toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] };
  return { delayMs, text: `answer of ${/LOAD-\d+/.exec(request.text)?.[0] ?? '?'}` };
}

interface Outcome {
  steers: { taskIndex: number; message: string; accepted: boolean }[];
  cancels: { taskIndex: number; accepted: boolean }[];
  tasks: TaskRecord[];
  durationMs: number;
}

async function runLoad(store: TaskStore, seed: number): Promise<Outcome> {
  server = await startScriptedServer({ handler: childReply });
  const cwd = mkdtempSync(join(tmpdir(), 'legate-load-'));
  dirs.push(cwd);
  const config = configSchema.parse({
    model: { provider: 'openai', name: 'load-model', base_url: server.openaiBaseUrl, api_key: 'sk-test-load-0001', max_retries: 3 },
    delegation: { max_concurrent_children: TASKS },
  });
  runtime = new Runtime({ loaded: { config, file: undefined, home: cwd, unset: new Map() }, cwd, io: quietIO, store, retryBaseDelayMs: 20 });
  const service = runtime.tasks;
  const random = prng(seed);
  const started = Date.now();

  const spawned = await Promise.all(
    Array.from({ length: TASKS }, (_, index) =>
      service.spawn({ goal: `LOAD-${index} list the directory`, model: 'load-model', depth: 1, sessionId: SESSION, mode: 'async', cwd, toolsets: ['file'] }),
    ),
  );
  const ids = spawned.map((task) => task.id);

  // Steer a random half and cancel a random quarter, each at a random moment in the first 400 ms.
  const shuffled = [...ids.keys()].sort(() => random() - 0.5);
  const steered = shuffled.slice(0, TASKS / 2);
  const cancelled = [...ids.keys()].sort(() => random() - 0.5).slice(0, TASKS / 4);
  const outcome: Outcome = { steers: [], cancels: [], tasks: [], durationMs: 0 };
  const refusedWith = async (action: () => Promise<unknown>, code: string): Promise<boolean> => {
    try {
      await action();
      return true;
    } catch (error) {
      // The only acceptable refusal: the task had already ended.
      if (error instanceof LegateError && error.code === code) return false;
      throw error;
    }
  };
  const later = <T>(action: () => Promise<T>): Promise<T> =>
    new Promise((resolve, reject) => setTimeout(() => action().then(resolve, reject), Math.floor(random() * 400)));
  await Promise.all([
    ...steered.map((taskIndex) =>
      later(async () => {
        const message = `STEER-${taskIndex} use the short form`;
        outcome.steers.push({ taskIndex, message, accepted: await refusedWith(() => service.steer(SESSION, ids[taskIndex]!, message), 'task_not_running') });
      }),
    ),
    ...cancelled.map((taskIndex) =>
      later(async () => outcome.cancels.push({ taskIndex, accepted: await refusedWith(() => service.cancel(SESSION, ids[taskIndex]!), 'task_finished') })),
    ),
  ]);

  await service.waitForSession(SESSION);
  outcome.tasks = await Promise.all(ids.map((id) => service.get(SESSION, id)));
  outcome.durationMs = Date.now() - started;
  return outcome;
}

async function expectNothingLost(outcome: Outcome): Promise<void> {
  const { tasks } = outcome;
  const store = { listSteers: async (id: string) => (await runtime!.tasks.trail(SESSION, id)).steers };
  expect(tasks).toHaveLength(TASKS);

  // Every task terminal: cancelled if its cancel was accepted, completed otherwise.
  const cancelledIndexes = new Set(outcome.cancels.filter((cancel) => cancel.accepted).map((cancel) => cancel.taskIndex));
  const wrong = tasks
    .map((task, index) => ({ index, task }))
    .filter(({ index, task }) => task.status !== (cancelledIndexes.has(index) ? 'cancelled' : 'completed'))
    .map(({ index, task }) => `LOAD-${index} ${task.status} ${task.error ?? ''}`);
  expect(wrong).toEqual([]);
  expect(tasks.every((task) => isTerminal(task.status))).toBe(true);
  expect(outcome.cancels).toHaveLength(TASKS / 4);
  expect(cancelledIndexes.size).toBeGreaterThan(TASKS / 20); // most cancels land while the task runs

  // Every steer: refused at once (task ended), or stored and then delivered or missed — none queued.
  expect(outcome.steers).toHaveLength(TASKS / 2);
  const seen = new Set(server!.requests.flatMap((request) => [...request.text.matchAll(/STEER-\d+ use the short form/g)].map((match) => match[0])));
  const states = { delivered: 0, missed: 0, refused: 0 };
  for (const steer of outcome.steers) {
    const task = tasks[steer.taskIndex]!;
    const records = (await store.listSteers(task.id)).filter((record) => record.message === steer.message);
    if (!steer.accepted) {
      states.refused += 1;
      expect(records).toEqual([]);
      continue;
    }
    expect(records, `${steer.message} on ${task.status} task`).toHaveLength(1);
    const [record] = records;
    expect(['delivered', 'missed'], `${steer.message} left ${record!.state} on a ${task.status} task`).toContain(record!.state);
    states[record!.state as 'delivered' | 'missed'] += 1;
    // A completed child saw exactly the steers that were delivered to it.
    if (task.status === 'completed') expect(seen.has(steer.message), `${steer.message} ${record!.state}`).toBe(record!.state === 'delivered');
  }
  expect(states.delivered).toBeGreaterThan(TASKS / 10);
  if (process.env.LOAD_STATS) {
    const statuses = tasks.reduce<Record<string, number>>((count, task) => ({ ...count, [task.status]: (count[task.status] ?? 0) + 1 }), {});
    console.log({ durationMs: outcome.durationMs, requests: server!.requests.length, statuses, steers: states, cancelsAccepted: cancelledIndexes.size });
  }
}

/**
 * The memory store with a random 0–2 ms pause before every call: store operations interleave the
 * way they do when the store is another process's SQLite file or a network service. Calls about
 * one task still apply in the order they were made, as the TaskStore contract requires of any
 * backend (a network store keeps one ordered queue per task, as this does).
 */
function withLatency(store: TaskStore, seed: number): TaskStore {
  const random = prng(seed);
  const lanes = new Map<string, Promise<unknown>>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'close') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => {
        const taskId =
          typeof args[0] === 'string' ? args[0] : typeof (args[0] as { id?: unknown })?.id === 'string' ? (args[0] as { id: string }).id : undefined;
        const previous = (taskId !== undefined && lanes.get(taskId)) || Promise.resolve();
        const call = previous
          .catch(() => undefined)
          .then(() => new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 3))))
          .then(() => value.apply(target, args));
        if (taskId !== undefined) {
          lanes.set(taskId, call);
          void call.finally(() => lanes.get(taskId) === call && lanes.delete(taskId)).catch(() => undefined);
        }
        return call;
      };
    },
  });
}

describe('load: 1000 concurrent tasks with steering and cancellation in flight', () => {
  it('memory store: nothing lost, nothing stuck', async () => {
    const outcome = await runLoad(new MemoryTaskStore(), 1_000);
    await expectNothingLost(outcome);
  }, 120_000);

  it('a store with latency (store calls interleave): nothing lost, nothing stuck', async () => {
    const outcome = await runLoad(withLatency(new MemoryTaskStore(), 3_000), 3_000);
    await expectNothingLost(outcome);
  }, 120_000);

  it('SQLite store: nothing lost, nothing stuck', async () => {
    const home = mkdtempSync(join(tmpdir(), 'legate-load-db-'));
    dirs.push(home);
    const outcome = await runLoad(SqliteTaskStore.open(join(home, 'state.db')), 2_000);
    await expectNothingLost(outcome);
  }, 180_000);
});
