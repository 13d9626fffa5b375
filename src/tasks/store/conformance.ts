import type { Message } from '../../provider/types.js';
import type { TaskRecord } from '../task-record.js';
import { approvalConformance } from './conformance-approvals.js';
import { budgetConformance } from './conformance-budgets.js';
import { compactionConformance } from './conformance-compactions.js';
import { sessionConformance } from './conformance-sessions.js';
import { outputBufferLines, outputLineChars, type TaskStore } from './task-store.js';

/**
 * The test functions the suite needs, as vitest (or jest) provides them: pass `{ describe, it,
 * expect }` from your test file. The suite imports no test framework itself, so this module can be
 * imported by any program (it is exported as `legate/store-conformance`).
 */
export interface ConformanceHarness {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>, timeout?: number): void;
  // biome-ignore lint/suspicious/noExplicitAny: the framework's own assertion type
  expect: (actual: unknown) => any;
}

/** How the suite gets a store: a fresh, empty one per test, and how to dispose of it (default `store.close()`). */
export interface StoreSetup {
  create(): Promise<TaskStore>;
  close?(store: TaskStore): Promise<void>;
}

/** A task record with sensible defaults. */
export function taskFixture(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id: `t_${Math.random().toString(16).slice(2, 10)}`,
    goal: 'a goal',
    model: 'm',
    depth: 1,
    sessionId: 's_1',
    mode: 'async',
    cwd: '/work',
    status: 'queued',
    createdAt: Date.now(),
    apiCalls: 0,
    usage: { inputTokens: 0, outputTokens: 0 },
    outputLines: 0,
    reported: false,
    ...overrides,
  };
}

/**
 * The one conformance suite every TaskStore backend must pass (memory, SQLite, Redis, or one
 * written outside this repository):
 *
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import { storeConformance } from 'legate/store-conformance';
 * storeConformance('my-store', { create: async () => new MyStore(), close: (store) => store.close() }, { describe, it, expect });
 * ```
 */
export function storeConformance(name: string, setup: StoreSetup, harness: ConformanceHarness): void {
  const { describe, expect } = harness;
  const test = (title: string, body: (store: TaskStore) => Promise<void>): void =>
    harness.it(title, async () => {
      const store = await setup.create();
      try {
        await body(store);
      } finally {
        await (setup.close ? setup.close(store) : store.close());
      }
    });
  const reply = (content: string): Message[] => [{ role: 'assistant', content }];

  describe(`TaskStore conformance: ${name}`, () => {
    test('creates and reads back a task, with every field', async (store) => {
      const task = taskFixture({ context: 'ctx', toolsets: ['file'], route: 'cheap', parentTaskId: undefined } as Partial<TaskRecord>);
      await store.create(task);
      expect(await store.get(task.id)).toEqual(task);
      expect(await store.get('t_missing')).toBeUndefined();
    });

    test('refuses a duplicate id', async (store) => {
      const task = taskFixture();
      await store.create(task);
      await expect(store.create(task)).rejects.toThrow(task.id);
    });

    test('keeps the trace context a task was spawned with through its claims, hand-backs and end', async (store) => {
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      await store.create(taskFixture({ id: 't_trace', traceparent }));
      expect((await store.get('t_trace'))!.traceparent).toBe(traceparent);
      const claimed = await store.claim('t_trace', 'queued', 'A', Date.now() + 10_000, { startedAt: 1 });
      expect(claimed.traceparent).toBe(traceparent);
      await store.transition('t_trace', 'running', 'interrupted', { owner: undefined, leaseExpiresAt: undefined }, { owner: 'A', epoch: 1 });
      const resumed = await store.claim('t_trace', 'interrupted', 'B', Date.now() + 10_000);
      expect(resumed).toMatchObject({ traceparent, owner: 'B', epoch: 2 });
      await store.transition('t_trace', 'running', 'completed', { summary: 'S', endedAt: 2 }, { owner: 'B', epoch: 2 });
      expect((await store.get('t_trace'))!.traceparent).toBe(traceparent);
      expect((await store.list({ sessionId: 's_1' })).find((task) => task.id === 't_trace')?.traceparent).toBe(traceparent);
    });

    test('lists by session and status, newest first, with a limit', async (store) => {
      await store.create(taskFixture({ id: 't_a', sessionId: 's_1', createdAt: 1 }));
      await store.create(taskFixture({ id: 't_b', sessionId: 's_1', createdAt: 2, status: 'running' }));
      await store.create(taskFixture({ id: 't_c', sessionId: 's_2', createdAt: 3 }));
      expect((await store.list({ sessionId: 's_1' })).map((task) => task.id)).toEqual(['t_b', 't_a']);
      expect((await store.list({ status: ['running'] })).map((task) => task.id)).toEqual(['t_b']);
      expect((await store.list({ limit: 2 })).map((task) => task.id)).toEqual(['t_c', 't_b']);
      expect((await store.list({ cwd: '/elsewhere' })).length).toBe(0);
    });

    test('counts tasks by session, status and cwd', async (store) => {
      await store.create(taskFixture({ id: 't_n1', sessionId: 's_1', status: 'running' }));
      await store.create(taskFixture({ id: 't_n2', sessionId: 's_1', status: 'completed' }));
      await store.create(taskFixture({ id: 't_n3', sessionId: 's_2', status: 'running', cwd: '/other' }));
      expect(await store.count()).toBe(3);
      expect(await store.count({ sessionId: 's_1' })).toBe(2);
      expect(await store.count({ status: ['running'] })).toBe(2);
      expect(await store.count({ sessionId: 's_1', status: ['running', 'failed'] })).toBe(1);
      expect(await store.count({ cwd: '/other' })).toBe(1);
      expect(await store.count({ status: [] })).toBe(0);
    });

    test('transitions conditionally and refuses illegal or stale moves', async (store) => {
      const task = taskFixture({ id: 't_tr' });
      await store.create(task);
      const running = await store.claim('t_tr', 'queued', 'o1', 100, { startedAt: 5 });
      expect(running).toMatchObject({ status: 'running', startedAt: 5, owner: 'o1', leaseExpiresAt: 100, epoch: 1 });
      // Stale expectation: it is no longer queued.
      await expect(store.claim('t_tr', 'queued', 'o2', 100)).rejects.toMatchObject({ code: 'illegal_transition' });
      // Illegal move even from the right state.
      await expect(store.transition('t_tr', 'running', 'queued')).rejects.toMatchObject({ code: 'illegal_transition' });
      const done = await store.transition('t_tr', ['running', 'interrupted'], 'completed', { summary: 'S', exitReason: 'completed', endedAt: 9 });
      expect(done).toMatchObject({ status: 'completed', summary: 'S', endedAt: 9 });
      await expect(store.transition('t_tr', 'completed', 'failed')).rejects.toMatchObject({ code: 'illegal_transition' });
      await expect(store.claim('t_none', 'queued', 'o1', 100)).rejects.toMatchObject({ code: 'task_not_found' });
      expect((await store.get('t_tr'))!.status).toBe('completed');
    });

    test('only one of two racing transitions wins', async (store) => {
      await store.create(taskFixture({ id: 't_race', status: 'running' }));
      const outcomes = await Promise.allSettled([store.transition('t_race', 'running', 'completed'), store.transition('t_race', 'running', 'cancelled')]);
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    });

    test('updates progress without touching the status', async (store) => {
      await store.create(taskFixture({ id: 't_up', status: 'running' }));
      await store.update('t_up', { apiCalls: 3, usage: { inputTokens: 10, outputTokens: 4 }, currentTool: 'read_file', reported: true });
      expect(await store.get('t_up')).toMatchObject({
        status: 'running',
        apiCalls: 3,
        usage: { inputTokens: 10, outputTokens: 4 },
        currentTool: 'read_file',
        reported: true,
      });
      await expect(store.update('t_none', { apiCalls: 1 })).rejects.toMatchObject({ code: 'task_not_found' });
    });

    test('keeps the last output lines, each capped, and counts all of them', async (store) => {
      await store.create(taskFixture({ id: 't_out' }));
      const lines = Array.from({ length: outputBufferLines + 50 }, (_, index) => `line ${index}`);
      await store.appendOutput('t_out', { lines: lines.slice(0, 100) });
      await store.appendOutput('t_out', { lines: [...lines.slice(100), 'x'.repeat(outputLineChars + 100)] });
      const output = await store.readOutput('t_out');
      expect(output).toHaveLength(outputBufferLines);
      expect(output[0]).toBe('line 51');
      expect(output.at(-1)).toHaveLength(outputLineChars);
      expect((await store.get('t_out'))!.outputLines).toBe(outputBufferLines + 51);
    });

    test('checkpoints steps in order and loads the conversation', async (store) => {
      await store.create(taskFixture({ id: 't_cp' }));
      expect(await store.loadCheckpoint('t_cp')).toEqual({ iterations: 0, steps: 0, messages: [] });
      await store.appendCheckpoint('t_cp', {
        step: 0,
        iteration: 1,
        messages: [
          { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'list_dir', arguments: '{}' }] },
          { role: 'tool', toolCallId: 'c1', name: 'list_dir', content: 'a\nb' },
        ],
      });
      await store.appendCheckpoint('t_cp', { step: 1, iteration: 2, messages: [{ role: 'assistant', content: 'done ✓ ünïcode' }] });
      const checkpoint = await store.loadCheckpoint('t_cp');
      expect(checkpoint.iterations).toBe(2);
      expect(checkpoint.steps).toBe(2);
      expect(checkpoint.messages).toEqual([
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'list_dir', arguments: '{}' }] },
        { role: 'tool', toolCallId: 'c1', name: 'list_dir', content: 'a\nb' },
        { role: 'assistant', content: 'done ✓ ünïcode' },
      ]);
    });

    test('keeps reasoning parts of a checkpointed reply byte for byte (stored format 2)', async (store) => {
      await store.create(taskFixture({ id: 't_think' }));
      const reply = {
        role: 'assistant' as const,
        content: 'listing',
        toolCalls: [{ id: 'c1', name: 'list_dir', arguments: '{}' }],
        reasoning: [
          {
            type: 'thinking' as const,
            source: 'anthropic' as const,
            text: 'Let me look ✓\n',
            signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds+/==',
            at: 0,
          },
          { type: 'redacted_thinking' as const, data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP', at: 0 },
          {
            type: 'reasoning_details' as const,
            details: [{ type: 'reasoning.encrypted', data: 'gAAAAABo…', id: 'rs_01', format: 'openai-responses-v1', index: 0 }],
          },
        ],
      };
      await store.appendCheckpoint('t_think', { step: 0, iteration: 1, messages: [reply] });
      expect((await store.loadCheckpoint('t_think')).messages).toEqual([reply]);
    });

    test('keeps the context in use as progress, beside the other fields, replaced by each write', async (store) => {
      await store.create(taskFixture({ id: 't_ctx', status: 'running', route: 'cheap' }));
      await store.update('t_ctx', { contextUse: { tokens: 1200, window: 200_000, compactions: 0 } });
      await store.appendOutput('t_ctx', {
        lines: ['⇲ context compacted'],
        progress: { contextUse: { tokens: 900, window: 200_000, compactions: 1 }, apiCalls: 4 },
      });
      expect(await store.get('t_ctx')).toMatchObject({
        status: 'running',
        route: 'cheap',
        apiCalls: 4,
        contextUse: { tokens: 900, window: 200_000, compactions: 1 },
      });
      await store.update('t_ctx', { contextUse: { tokens: 50, compactions: 1 } });
      const task = await store.get('t_ctx');
      expect(task?.contextUse).toEqual({ tokens: 50, compactions: 1 });
      expect(task?.route).toBe('cheap');
    });

    test('applies progress in the same write as output lines', async (store) => {
      await store.create(taskFixture({ id: 't_op', status: 'running' }));
      await store.appendOutput('t_op', {
        lines: ['→ list_dir {}'],
        progress: { currentTool: 'list_dir', lastActivity: '→ list_dir', apiCalls: 2, usage: { inputTokens: 5, outputTokens: 1 } },
      });
      expect(await store.get('t_op')).toMatchObject({
        status: 'running',
        currentTool: 'list_dir',
        lastActivity: '→ list_dir',
        apiCalls: 2,
        usage: { inputTokens: 5, outputTokens: 1 },
        outputLines: 1,
      });
      await store.appendOutput('t_op', { lines: [], progress: { currentTool: '' } });
      expect(await store.get('t_op')).toMatchObject({ currentTool: '', outputLines: 1 });
      expect(await store.readOutput('t_op')).toEqual(['→ list_dir {}']);
      await expect(store.appendOutput('t_none', { lines: ['x'], progress: { apiCalls: 1 } })).rejects.toMatchObject({ code: 'task_not_found' });
    });

    test("applies one task's calls in the order they are made, even when none is awaited", async (store) => {
      await store.create(taskFixture({ id: 't_order', status: 'running' }));
      const calls = [
        store.appendOutput('t_order', { lines: ['one'], progress: { currentTool: 'read_file', apiCalls: 1 } }),
        store.appendCheckpoint('t_order', { step: 0, iteration: 1, messages: [{ role: 'assistant', content: 'first' }] }),
        store.update('t_order', { currentTool: 'list_dir' }),
        store.appendOutput('t_order', { lines: ['two', 'three'], progress: { apiCalls: 2 } }),
        store.appendCheckpoint('t_order', { step: 1, iteration: 2, messages: [{ role: 'assistant', content: 'second' }] }),
        store.appendOutput('t_order', { lines: [], progress: { currentTool: '' } }),
      ];
      const ended = store.transition('t_order', 'running', 'completed', { summary: 'S' });
      await Promise.all(calls);
      expect(await ended).toMatchObject({ status: 'completed', currentTool: '', apiCalls: 2, outputLines: 3 });
      expect(await store.readOutput('t_order')).toEqual(['one', 'two', 'three']);
      expect(await store.loadCheckpoint('t_order')).toEqual({
        iterations: 2,
        steps: 2,
        messages: [
          { role: 'assistant', content: 'first' },
          { role: 'assistant', content: 'second' },
        ],
      });
    });

    test('reads only the last lines when asked', async (store) => {
      await store.create(taskFixture({ id: 't_last' }));
      await store.appendOutput('t_last', { lines: ['a', 'b', 'c', 'd'] });
      expect(await store.readOutput('t_last', 2)).toEqual(['c', 'd']);
      expect(await store.readOutput('t_last', 10)).toEqual(['a', 'b', 'c', 'd']);
    });

    test('heartbeat renews the leases of running tasks of one owner and reports which it still owns', async (store) => {
      await store.create(taskFixture({ id: 't_h1', status: 'running', owner: 'o1', leaseExpiresAt: 1, epoch: 2 }));
      await store.create(taskFixture({ id: 't_h2', status: 'running', owner: 'o1', leaseExpiresAt: 1 }));
      await store.create(taskFixture({ id: 't_h3', status: 'running', owner: 'o2', leaseExpiresAt: 1 }));
      await store.transition('t_h2', 'running', 'cancelled');
      expect(await store.heartbeat('o1', 500)).toEqual([{ id: 't_h1', owner: 'o1', epoch: 2 }]);
      expect((await store.get('t_h1'))!.leaseExpiresAt).toBe(500);
      expect((await store.get('t_h3'))!.leaseExpiresAt).toBe(1);
      expect(await store.heartbeat('nobody', 500)).toEqual([]);
    });

    test('prunes ended tasks older than the cutoff, with their output, and nothing else', async (store) => {
      await store.create(taskFixture({ id: 't_old', status: 'completed', endedAt: 100 }));
      await store.appendOutput('t_old', { lines: ['x'] });
      await store.appendCheckpoint('t_old', { step: 0, iteration: 1, messages: [{ role: 'assistant', content: 'x' }] });
      await store.addSteer('t_old', 'x');
      await store.create(taskFixture({ id: 't_new', status: 'failed', endedAt: 300 }));
      await store.create(taskFixture({ id: 't_live', status: 'running' }));
      await store.create(taskFixture({ id: 't_int', status: 'interrupted' }));
      expect(await store.prune(200)).toBe(1);
      expect(await store.get('t_old')).toBeUndefined();
      expect((await store.list()).map((task) => task.id).sort()).toEqual(['t_int', 't_live', 't_new']);
    });

    test('steering: queued, taken once in order, the rest missed', async (store) => {
      await store.create(taskFixture({ id: 't_st', status: 'running' }));
      const first = await store.addSteer('t_st', 'one');
      await store.addSteer('t_st', 'two');
      expect(first).toMatchObject({ taskId: 't_st', message: 'one', state: 'queued' });
      expect((await store.takeSteers('t_st')).map((steer) => steer.message)).toEqual(['one', 'two']);
      expect(await store.takeSteers('t_st')).toEqual([]);
      await store.addSteer('t_st', 'three');
      expect(await store.missSteers('t_st')).toBe(1);
      expect((await store.listSteers('t_st')).map((steer) => [steer.message, steer.state])).toEqual([
        ['one', 'delivered'],
        ['two', 'delivered'],
        ['three', 'missed'],
      ]);
      await expect(store.addSteer('t_none', 'x')).rejects.toMatchObject({ code: 'task_not_found' });
    });

    test('claims start a new epoch each time and refuse to run a task twice', async (store) => {
      await store.create(taskFixture({ id: 't_ep' }));
      await expect(store.transition('t_ep', 'queued', 'running')).rejects.toMatchObject({ code: 'illegal_transition' });
      const first = await store.claim('t_ep', ['queued', 'interrupted'], 'A', 100);
      expect(first).toMatchObject({ status: 'running', owner: 'A', leaseExpiresAt: 100, epoch: 1 });
      await expect(store.claim('t_ep', ['queued', 'interrupted'], 'B', 100)).rejects.toMatchObject({ code: 'illegal_transition' });
      await store.transition('t_ep', 'running', 'interrupted', { owner: undefined, leaseExpiresAt: undefined, takeovers: 1 }, { owner: 'A', epoch: 1 });
      const second = await store.claim('t_ep', 'interrupted', 'B', 200);
      expect(second).toMatchObject({ status: 'running', owner: 'B', leaseExpiresAt: 200, epoch: 2, takeovers: 1 });
    });

    test('fencing: a process whose task was taken over writes nothing more for it', async (store) => {
      await store.create(taskFixture({ id: 't_fence' }));
      const a = { owner: 'A', epoch: (await store.claim('t_fence', 'queued', 'A', 100)).epoch! };
      await store.appendCheckpoint('t_fence', { step: 0, iteration: 1, messages: reply('A1') }, a);
      await store.appendOutput('t_fence', { lines: ['A line'], at: 0 }, a);
      // A's lease lapses: the task is interrupted (fenced on A's epoch) and B takes it over.
      await store.transition('t_fence', 'running', 'interrupted', { owner: undefined, leaseExpiresAt: undefined }, a);
      const b = { owner: 'B', epoch: (await store.claim('t_fence', 'interrupted', 'B', 200)).epoch! };
      expect(b.epoch).toBe(a.epoch + 1);
      await store.addSteer('t_fence', 'for B');
      // A wakes and carries on: every write is refused, and none lands.
      await expect(store.appendCheckpoint('t_fence', { step: 1, iteration: 2, messages: reply('A2') }, a)).rejects.toMatchObject({ code: 'lease_lost' });
      await expect(store.appendOutput('t_fence', { lines: ['A again'], progress: { apiCalls: 9 }, at: 1 }, a)).rejects.toMatchObject({ code: 'lease_lost' });
      await expect(store.update('t_fence', { currentTool: 'A tool' }, a)).rejects.toMatchObject({ code: 'lease_lost' });
      await expect(store.takeSteers('t_fence', a)).rejects.toMatchObject({ code: 'lease_lost' });
      await expect(store.transition('t_fence', 'running', 'completed', { summary: 'A summary' }, a)).rejects.toMatchObject({ code: 'lease_lost' });
      expect(await store.heartbeat('A', 999)).toEqual([]);
      // B's writes apply.
      expect((await store.takeSteers('t_fence', b)).map((steer) => steer.message)).toEqual(['for B']);
      await store.appendCheckpoint('t_fence', { step: 1, iteration: 2, messages: reply('B2') }, b);
      await store.appendOutput('t_fence', { lines: ['B line'], progress: { apiCalls: 2 }, at: 1 }, b);
      expect(await store.heartbeat('B', 300)).toEqual([{ id: 't_fence', owner: 'B', epoch: b.epoch }]);
      const done = await store.transition('t_fence', 'running', 'completed', { summary: 'B summary' }, b);
      expect(done).toMatchObject({ status: 'completed', owner: 'B', epoch: b.epoch, summary: 'B summary', apiCalls: 2 });
      expect(await store.readOutput('t_fence')).toEqual(['A line', 'B line']);
      expect((await store.loadCheckpoint('t_fence')).messages).toEqual([...reply('A1'), ...reply('B2')]);
      // And after the end, neither can write as the runner.
      await expect(store.appendOutput('t_fence', { lines: ['late'] }, b)).rejects.toMatchObject({ code: 'lease_lost' });
    });

    test("fencing: a cancel from anywhere wins over the owner's final transition", async (store) => {
      await store.create(taskFixture({ id: 't_fc' }));
      const a = { owner: 'A', epoch: (await store.claim('t_fc', 'queued', 'A', 100)).epoch! };
      await store.transition('t_fc', 'running', 'cancelled', { cancelledBy: 'user', error: 'cancelled by the user' });
      await expect(store.transition('t_fc', 'running', 'completed', { summary: 'late' }, a)).rejects.toHaveProperty('code');
      await expect(store.appendCheckpoint('t_fc', { step: 0, iteration: 1, messages: reply('late') }, a)).rejects.toMatchObject({ code: 'lease_lost' });
      expect(await store.get('t_fc')).toMatchObject({ status: 'cancelled', cancelledBy: 'user', error: 'cancelled by the user' });
      expect(await store.loadCheckpoint('t_fc')).toEqual({ iterations: 0, steps: 0, messages: [] });
    });

    test('writes are safe to apply twice: checkpoints by step, output by line number', async (store) => {
      await store.create(taskFixture({ id: 't_twice' }));
      const fence = { owner: 'A', epoch: (await store.claim('t_twice', 'queued', 'A', 100)).epoch! };
      const step = { step: 0, iteration: 1, messages: reply('once') };
      await store.appendCheckpoint('t_twice', step, fence);
      await store.appendCheckpoint('t_twice', step, fence);
      await store.appendCheckpoint('t_twice', { step: 1, iteration: 1, messages: reply('twice') }, fence);
      expect(await store.loadCheckpoint('t_twice')).toEqual({ iterations: 1, steps: 2, messages: [...reply('once'), ...reply('twice')] });
      const write = { lines: ['a', 'b'], progress: { apiCalls: 1 }, at: 0 };
      await store.appendOutput('t_twice', write, fence);
      await store.appendOutput('t_twice', write, fence);
      await store.appendOutput('t_twice', { lines: ['c'], at: 2 }, fence);
      expect(await store.readOutput('t_twice')).toEqual(['a', 'b', 'c']);
      expect(await store.get('t_twice')).toMatchObject({ outputLines: 3, apiCalls: 1 });
    });

    test('records who cancelled and how often a task was taken over', async (store) => {
      await store.create(taskFixture({ id: 't_who', status: 'interrupted', takeovers: 2 }));
      const cancelled = await store.transition('t_who', 'interrupted', 'cancelled', { cancelledBy: 'parent', endedAt: 5 });
      expect(cancelled).toMatchObject({ cancelledBy: 'parent', takeovers: 2 });
      expect(await store.get('t_who')).toMatchObject({ status: 'cancelled', cancelledBy: 'parent', takeovers: 2 });
    });

    test('a failed task reopens to interrupted (an operator resume): its end cleared, checkpoints kept, out of prune', async (store) => {
      await store.create(taskFixture({ id: 't_re', status: 'running', owner: 'o', epoch: 1 }));
      await store.appendCheckpoint('t_re', { step: 0, iteration: 1, messages: [{ role: 'assistant', content: 'step one' }] });
      await store.transition('t_re', 'running', 'failed', { endedAt: 100, exitReason: 'error', error: 'stream interrupted' }, { owner: 'o', epoch: 1 });
      const reopened = await store.transition('t_re', 'failed', 'interrupted', { endedAt: undefined, exitReason: undefined, error: undefined, takeovers: 0 });
      expect(reopened).toMatchObject({ status: 'interrupted', takeovers: 0 });
      expect(reopened.endedAt).toBeUndefined();
      expect(reopened.error).toBeUndefined();
      expect(await store.prune(Date.now() + 1000)).toBe(0);
      expect((await store.loadCheckpoint('t_re')).messages).toEqual([{ role: 'assistant', content: 'step one' }]);
      await expect(store.transition('t_re', 'failed', 'interrupted')).rejects.toMatchObject({ code: 'illegal_transition' });
      await store.create(taskFixture({ id: 't_done', status: 'completed', endedAt: 5 }));
      await expect(store.transition('t_done', 'completed', 'interrupted')).rejects.toMatchObject({ code: 'illegal_transition' });
    });

    approvalConformance(test, expect, taskFixture);
    sessionConformance(test, describe, expect);
    budgetConformance(test, expect, taskFixture);
    compactionConformance(test, expect, taskFixture);
  });
}
